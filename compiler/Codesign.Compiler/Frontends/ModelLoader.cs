using Codesign.Compiler.Frontends.Gguf;
using Codesign.Compiler.Frontends.HuggingFace;

namespace Codesign.Compiler.Frontends;

/// <summary>Picks the importer for a model path.</summary>
public static class ModelLoader
{
    public static ImportedModel Load(string path)
    {
        if (HuggingFaceImporter.IsCheckpointDirectory(path)) return HuggingFaceImporter.Import(path);
        if (GgufImporter.IsGgufFile(path)) return GgufImporter.Import(path);
        if (Directory.Exists(path))
            throw new ModelFormatException(path, "directory has no config.json: expected a Hugging Face checkpoint");
        if (!File.Exists(path))
            throw new ModelFormatException(path, "no such file or directory");
        throw new ModelFormatException(path, "unrecognised model file: expected a Hugging Face checkpoint directory or a GGUF file");
    }
}
