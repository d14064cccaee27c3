using System.Text.Json;
using Codesign.Backends.Cpu.Aot;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Backends.Fpga.Aot;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Verification;
using Codesign.Backends.Gpu.Aot;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Text;
using Codesign.IR.Weights;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Scheduling;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Artifacts;

/// <summary>
/// Writes an artifact directory for a device: the graph as that device runs it (graph.cir), the tokenizer, the device's
/// files (<see cref="CpuArtifact"/>: kernels and prepared weights; <see cref="GpuArtifact"/>: packed weights; <see cref="FpgaArtifact"/>:
/// memory image, programs and RTL) and manifest.json. Everything is written into a fresh sibling
/// directory first and moved into place at the end, so a failed compile leaves an earlier artifact untouched; a
/// directory that holds anything but an artifact is never overwritten.
/// </summary>
public static class ArtifactWriter
{
    public const string GraphFile = "graph.cir";

    public static ArtifactManifest WriteCpu(ImportedModel model, IWeightStore weights, string directory, LutChoice lut = LutChoice.Auto, string? recipe = null) =>
        Write(model, directory, recipe, staging =>
        {
            var (graph, code) = WriteCpuCode(model.Graph, weights, lut, staging, CpuArtifact.Folder);
            return (graph, code, null);
        });

    /// <summary>The gpu's artifact: the graph as compressed, its packed weights and the kernels they lower to (ILGPU compiles them at load).</summary>
    public static ArtifactManifest WriteGpu(ImportedModel model, IWeightStore weights, string directory, string? recipe = null) =>
        Write(model, directory, recipe, staging =>
        {
            var (graph, code) = WriteGpuCode(model.Graph, weights, staging, GpuArtifact.Folder);
            return (graph, code, null);
        });

    /// <summary>
    /// The fpga's artifact: the graph as compressed, compiled for an accelerator holding <paramref name="maxContext"/>
    /// tokens of KV cache on <paramref name="device"/> (memory image, decode programs and prefill-chunk programs of up
    /// to <paramref name="chunkTokens"/> tokens, RTL). With
    /// <paramref name="synthesize"/>, Yosys maps the RTL to the device's family first and a design that exceeds the
    /// device fails the compile (<see cref="FpgaArtifact.Synthesize"/>); the counts go into the manifest. With
    /// <paramref name="lutEngine"/> the layers the LUT-mpGEMM engine takes are lowered onto it, and the artifact's graph
    /// is the lowered one (its lut.mpgemm is what the accelerator computes).
    /// </summary>
    /// <param name="shape">The matrix cores; by default the configuration that fills <paramref name="device"/> (<see cref="Backends.Fpga.Cores.CoreFit"/>).</param>
    public static ArtifactManifest WriteFpga(ImportedModel model, IWeightStore weights, string directory, FpgaDevice device, int maxContext,
        bool synthesize, string? recipe = null, bool lutEngine = false, int chunkTokens = FpgaCompilation.DefaultChunkTokens, AcceleratorShape? shape = null)
    {
        int positions = CausalLmGraph.Check(model.Graph).MaxPositions;
        if (maxContext < 1 || maxContext > positions)
            throw new CodesignException($"--max-context {maxContext}: the accelerator's KV cache holds 1 to the model's {positions} positions");
        CheckDestination(directory); // before minutes of synthesis, not after
        var compilation = FpgaCompilation.Compile(model.Graph, weights, maxContext, lutEngine, chunkTokens, shape, device);
        ResourceReport? resources = synthesize ? FpgaArtifact.Synthesize(compilation, device) : null;
        return Write(model, directory, recipe, staging =>
            (GraphPrinter.Print(compilation.Graph), new ArtifactDevices(null, null, FpgaArtifact.Write(compilation, device, resources, staging)), null));
    }

    /// <summary>The cpu's code for <paramref name="graph"/> in <paramref name="folder"/>; returns the graph as the cpu runs it (lowered), as text.</summary>
    private static (string Graph, ArtifactDevices Code) WriteCpuCode(Graph graph, IWeightStore weights, LutChoice lut, string staging, string folder)
    {
        using var plan = CpuPlan.Lower(graph, weights, lut);
        return (GraphPrinter.Print(plan.Graph), new ArtifactDevices(CpuArtifact.Write(plan, staging, folder)));
    }

    /// <summary>The gpu's code for <paramref name="graph"/> in <paramref name="folder"/>; the gpu runs the graph as it is.</summary>
    private static (string Graph, ArtifactDevices Code) WriteGpuCode(Graph graph, IWeightStore weights, string staging, string folder) =>
        (GraphPrinter.Print(graph), new ArtifactDevices(null, GpuArtifact.Write(graph, weights, staging, folder)));

    /// <summary>
    /// An artifact split across devices by <paramref name="plan"/> (<see cref="PartitionedSessions.Place"/> and
    /// <see cref="GraphPartitioner.Split"/> over <see cref="ArtifactSchedule.Devices"/>): the whole graph as compressed,
    /// and per segment its graph as its device runs it with that device's files, in a folder of its own.
    /// </summary>
    public static ArtifactManifest WritePlaced(ImportedModel model, IWeightStore weights, PartitionPlan plan, string placement, string directory,
        LutChoice lut = LutChoice.Auto, string? recipe = null)
    {
        foreach (var segment in plan.Segments)
            if (!ArtifactSchedule.Devices.Contains(segment.Device))
                throw new CodesignException($"placement '{placement}': an artifact carries code for {string.Join(" and ", ArtifactSchedule.Devices)}, not for '{segment.Device}'");
        return Write(model, directory, recipe, staging =>
        {
            var segments = new List<ArtifactSegment>();
            foreach (var segment in plan.Segments)
            {
                string folder = ArtifactSchedule.Folder(segment);
                var (graphText, code) = segment.Device == "cpu"
                    ? WriteCpuCode(segment.Graph, weights, lut, staging, folder)
                    : WriteGpuCode(segment.Graph, weights, staging, folder);
                string graphFile = $"{folder}/{GraphFile}";
                File.WriteAllText(Path.Combine(staging, graphFile), graphText);
                segments.Add(new ArtifactSegment(segment.Index, segment.Device, graphFile, code));
            }
            var schedule = new ArtifactSchedule(placement, plan.Placement.NodeDevices, segments, plan.Transfers);
            return (GraphPrinter.Print(model.Graph), new ArtifactDevices(null), schedule);
        });
    }

    /// <param name="writeDevice">Writes the device's files into the staging directory; returns the graph text, the device sections and the schedule of a placed artifact.</param>
    private static ArtifactManifest Write(ImportedModel model, string directory, string? recipe,
        Func<string, (string Graph, ArtifactDevices Devices, ArtifactSchedule? Schedule)> writeDevice)
    {
        CheckDestination(directory);
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string staging = $"{full}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            var (graphText, devices, schedule) = writeDevice(staging);
            File.WriteAllText(Path.Combine(staging, GraphFile), graphText);
            var tokenizer = WriteTokenizer(model, staging);
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in ArtifactManifest.NamedFiles(GraphFile, tokenizer, devices, schedule))
                files[path] = ArtifactHashes.OfFile(Path.Combine(staging, path));
            var manifest = new ArtifactManifest(ArtifactManifest.FormatName, ArtifactManifest.CurrentVersion, ArtifactManifest.ThisCodesignVersion,
                model.Source, recipe, GraphFile, tokenizer, files, ArtifactHashes.Content(files), devices, schedule);
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
