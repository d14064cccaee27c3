using Codesign.IR.Analysis;

namespace Codesign.Compiler.Frontends.HuggingFace;

/// <summary>Imports a Hugging Face LLaMA-family checkpoint directory (config.json + safetensors, single or sharded).</summary>
public static class HuggingFaceImporter
{
    public static bool IsCheckpointDirectory(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, "config.json"));

    public static ImportedModel Import(string directory)
    {
        if (!Directory.Exists(directory))
            throw new ModelFormatException(directory, "not a directory");
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
            throw new ModelFormatException(directory, "no config.json: not a Hugging Face checkpoint directory");
        var config = LlamaConfig.Load(configPath);
        var weights = SafetensorsCheckpoint.Open(directory);
        try
        {
            var graph = LlamaGraphBuilder.Build(GraphName(directory), config, weights, directory);
            Verifier.Verify(graph);
            string tokenizer = Path.Combine(directory, "tokenizer.model");
            return new ImportedModel(graph, weights, directory, File.Exists(tokenizer) ? tokenizer : null, weights);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The directory name as a graph name: letters, digits, '_' and '.', starting with a letter or '_'.</summary>
    public static string GraphName(string directory)
    {
        string name = new DirectoryInfo(Path.GetFullPath(directory)).Name;
        var chars = name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' ? ch : '_').ToArray();
        string s = new(chars);
        return s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') ? s : "_" + s;
    }
}
