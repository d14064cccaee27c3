using System.Text.Json;
using Codesign.Backends.Cpu.Aot;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Text;
using Codesign.IR.Weights;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Artifacts;

/// <summary>
/// Writes an artifact directory for the cpu: the graph lowered for the cpu (graph.cir), the tokenizer, the cpu's
/// kernels and weights (<see cref="CpuArtifact"/>) and manifest.json. Everything is written into a fresh sibling
/// directory first and moved into place at the end, so a failed compile leaves an earlier artifact untouched; a
/// directory that holds anything but an artifact is never overwritten.
/// </summary>
public static class ArtifactWriter
{
    public const string GraphFile = "graph.cir";

    public static ArtifactManifest WriteCpu(ImportedModel model, IWeightStore weights, string directory, LutChoice lut = LutChoice.Auto, string? recipe = null)
    {
        CheckDestination(directory);
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string staging = $"{full}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            CpuArtifactSection section;
            string graphText;
            using (var plan = CpuPlan.Lower(model.Graph, weights, lut))
            {
                section = CpuArtifact.Write(plan, staging);
                graphText = GraphPrinter.Print(plan.Graph);
            }
            File.WriteAllText(Path.Combine(staging, GraphFile), graphText);
            var tokenizer = WriteTokenizer(model, staging);
            var devices = new ArtifactDevices(section);
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in ArtifactManifest.NamedFiles(GraphFile, tokenizer, devices))
                files[path] = ArtifactHashes.OfFile(Path.Combine(staging, path));
            var manifest = new ArtifactManifest(ArtifactManifest.FormatName, ArtifactManifest.CurrentVersion, ArtifactManifest.ThisCodesignVersion,
                model.Source, recipe, GraphFile, tokenizer, files, ArtifactHashes.Content(files), devices);
            File.WriteAllText(Path.Combine(staging, ArtifactManifest.FileName), JsonSerializer.Serialize(manifest, ArtifactManifest.Json));
            Replace(full, staging);
            return manifest;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static void CheckDestination(string directory)
    {
        if (File.Exists(directory))
            throw new CodesignException($"{directory}: is a file; an artifact is a directory");
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any() && !File.Exists(Path.Combine(directory, ArtifactManifest.FileName)))
            throw new CodesignException($"{directory}: exists and is not an artifact (no {ArtifactManifest.FileName}); not overwriting it");
    }

    /// <summary>Moves the finished artifact into place; an earlier artifact there is removed only once the new one is in.</summary>
    private static void Replace(string directory, string staging)
    {
        if (!Directory.Exists(directory))
        {
            Directory.Move(staging, directory);
            return;
        }
        string old = $"{directory}.old-{Guid.NewGuid():N}";
        Directory.Move(directory, old);
        Directory.Move(staging, directory);
        Directory.Delete(old, recursive: true);
    }

    private static ArtifactTokenizer? WriteTokenizer(ImportedModel model, string directory)
    {
        if (model.TokenizerPath is { } path)
        {
            File.Copy(path, Path.Combine(directory, "tokenizer.model"));
            return new ArtifactTokenizer("tokenizer.model", ArtifactTokenizer.SentencePiece);
        }
        if (model.Vocabulary is { } vocabulary)
        {
            File.WriteAllText(Path.Combine(directory, "vocabulary.json"), JsonSerializer.Serialize(vocabulary, ArtifactManifest.Json));
            return new ArtifactTokenizer("vocabulary.json", ArtifactTokenizer.GgufVocabulary);
        }
        return null;
    }
}
