using System.Text.Json;
using Codesign.Backends.Cpu.Aot;
using Codesign.Backends.Fpga.Aot;
using Codesign.Backends.Gpu.Aot;
using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Text;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Serving;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Artifacts;

/// <summary>
/// An artifact directory opened for running: the manifest is checked (format, version, every file's SHA-256 and the
/// content hash) before anything in it is used, the lowered graph is parsed and verified, and sessions run the
/// kernels the artifact carries. Nothing here compiles code.
/// </summary>
public sealed class CompiledArtifact
{
    private const long MaxManifestBytes = 64L << 20;

    private CompiledArtifact(string directory, ArtifactManifest manifest, Graph graph)
    {
        Directory = directory;
        Manifest = manifest;
        Graph = graph;
    }

    public string Directory { get; }
    public ArtifactManifest Manifest { get; }
    public Graph Graph { get; }

    /// <summary>The devices the artifact holds code for (a placed artifact's in order of first use).</summary>
    public IReadOnlyList<string> Devices => Manifest.Schedule is { } schedule
        ? [.. schedule.Segments.Select(s => s.Device).Distinct()]
        : [.. new[] { Manifest.Devices.Cpu is null ? null : "cpu", Manifest.Devices.Gpu is null ? null : "gpu", Manifest.Devices.Fpga is null ? null : FpgaSession.RtlDevice }.OfType<string>()];

    /// <summary>The placement the artifact was compiled with, or null for a single-device artifact.</summary>
    public string? Placement => Manifest.Schedule?.Placement;

    /// <summary>Whether <paramref name="path"/> looks like an artifact directory (it has a manifest.json).</summary>
    public static bool IsArtifact(string path) => System.IO.Directory.Exists(path) && File.Exists(Path.Combine(path, ArtifactManifest.FileName));

    public static CompiledArtifact Open(string directory)
    {
        string manifestPath = Path.Combine(directory, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) throw new CodesignException($"{directory}: not an artifact (no {ArtifactManifest.FileName})");
        var manifest = ReadManifest(manifestPath);
        CheckFiles(directory, manifest);
        return new CompiledArtifact(directory, manifest, ReadGraph(directory, manifest.GraphFile));
    }

    /// <summary>A graph file of the artifact (already hash-checked), parsed and verified; a parse error names the file.</summary>
    internal static Graph ReadGraph(string directory, string file)
    {
        string path = ArtifactPaths.Inside(directory, file);
        try
        {
            return GraphParser.Parse(File.ReadAllText(path));
        }
        catch (CodesignException e)
        {
            throw new CodesignException($"{path}: {e.Message}");
        }
    }

    /// <summary>The tokenizer stored with the model, or null when the model had none.</summary>
    public SentencePieceTokenizer? Tokenizer()
    {
        if (Manifest.Tokenizer is not { } t) return null;
        string path = ArtifactPaths.Inside(Directory, t.File);
        return t.Kind switch
        {
            ArtifactTokenizer.SentencePiece => SentencePieceTokenizer.Load(path),
            ArtifactTokenizer.GgufVocabulary => GgufVocabularies.Tokenizer(Deserialize<GgufVocabulary>(path, File.ReadAllText(path))),
            _ => throw new CodesignException($"{Path.Combine(Directory, ArtifactManifest.FileName)}: unknown tokenizer kind '{t.Kind}'"),
        };
    }

    /// <summary>A causal-LM session on <paramref name="device"/> (default: the one device the artifact holds).</summary>
    /// <param name="notice">Told when a device falls back (the gpu without CUDA).</param>
    public ICausalLmSession OpenSession(string? device = null, int threads = 0, Action<string>? notice = null)
    {
        if (Manifest.Schedule is { } schedule)
        {
            if (device is not null)
                throw new CodesignException($"{Directory}: was compiled with --placement {schedule.Placement} and runs as placed; leave out --device {device}");
            return PlacedArtifact.Open(this, schedule, threads, notice);
        }
        device ??= Devices.Count == 1 ? Devices[0] : throw new CodesignException($"{Directory}: holds code for {Devices.Count} devices; name one with --device");
        return device switch
        {
            "cpu" when Manifest.Devices.Cpu is { } cpu => new CpuSession(CpuArtifact.Load(Directory, cpu, Graph, threads), ownsProgram: true),
            "gpu" when Manifest.Devices.Gpu is { } gpu => new GpuSession(GpuArtifact.Load(Directory, gpu, Graph, GpuDevice.Open(GpuAcceleratorKind.Auto, notice), ownsDevice: true)),
            FpgaSession.RtlDevice or FpgaSession.FunctionalDevice when Manifest.Devices.Fpga is not null => OpenFpga(FpgaSession.Simulator(device)!.Value),
            "interpreter" => throw new CodesignException($"{Directory}: the interpreter runs models, not compiled artifacts; run the model this was compiled from ({Manifest.Model})"),
            _ => throw new CodesignException($"{Directory}: the artifact holds no code for device '{device}' (it holds: {string.Join(", ", Devices)}); compile it with --target {device}"),
        };
    }

    /// <summary>
    /// The artifact's fpga part read back and checked: its programs, RTL and memory image, for a session or a report.
    /// </summary>
    public FpgaArtifactImage FpgaImage() =>
        FpgaArtifact.Load(Directory, Manifest.Devices.Fpga ?? throw new CodesignException($"{Directory}: the artifact holds no fpga code (it holds: {string.Join(", ", Devices)}); compile it with --target fpga"),
            CausalLmGraph.Check(Graph).VocabSize, Path.Combine(Directory, ArtifactManifest.FileName));

    /// <summary>A session on the simulated accelerator: <see cref="FpgaSimulator.Rtl"/> (Verilated, cycle counts) or the functional model.</summary>
    public FpgaSession OpenFpga(FpgaSimulator simulator) => new(Graph, FpgaImage(), simulator);

    /// <summary>
    /// The artifact's model for continuous batching (<see cref="BatchedModels"/>), or null when its device serves one
    /// sequence at a time (the gpu, a placed artifact).
    /// </summary>
    public IBatchedModel? OpenBatched(string? device = null, int threads = 0)
    {
        if (Manifest.Schedule is not null) return null;
        device ??= Devices.Count == 1 ? Devices[0] : throw new CodesignException($"{Directory}: holds code for {Devices.Count} devices; name one with --device");
        return device == "cpu" && Manifest.Devices.Cpu is { } cpu ? BatchedModels.Cpu(CpuArtifact.Load(Directory, cpu, Graph, threads)) : null;
    }

    private static ArtifactManifest ReadManifest(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxManifestBytes) throw new CodesignException($"{path}: {length} bytes is too large for a manifest");
        var manifest = Deserialize<ArtifactManifest>(path, File.ReadAllText(path));
        if (manifest.Format != ArtifactManifest.FormatName)
            throw new CodesignException($"{path}: format '{manifest.Format}' is not '{ArtifactManifest.FormatName}'");
        if (manifest.Version != ArtifactManifest.CurrentVersion)
            throw new CodesignException($"{path}: artifact version {manifest.Version} (written by codesign {manifest.CodesignVersion}); this codesign reads version {ArtifactManifest.CurrentVersion}: compile the model again");
        return manifest;
    }

    private static void CheckFiles(string directory, ArtifactManifest manifest)
    {
        foreach (var file in ArtifactManifest.NamedFiles(manifest.GraphFile, manifest.Tokenizer, manifest.Devices, manifest.Schedule))
            if (!manifest.Files.ContainsKey(file))
                throw new CodesignException($"{Path.Combine(directory, ArtifactManifest.FileName)}: file '{file}' has no hash in the manifest");
        foreach (var (file, hash) in manifest.Files)
        {
            string path = ArtifactPaths.Inside(directory, file);
            if (!File.Exists(path)) throw new CodesignException($"{path}: missing from the artifact");
            string actual = ArtifactHashes.OfFile(path);
            if (!string.Equals(actual, hash, StringComparison.OrdinalIgnoreCase))
                throw new CodesignException($"{path}: SHA-256 {actual} does not match the manifest's {hash}: the artifact is corrupt or was modified");
        }
        if (ArtifactHashes.Content(manifest.Files) != manifest.ContentHash)
            throw new CodesignException($"{Path.Combine(directory, ArtifactManifest.FileName)}: the content hash does not match the files' hashes");
    }

    private static T Deserialize<T>(string path, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, ArtifactManifest.Json) ?? throw new CodesignException($"{path}: is empty (null)");
        }
        catch (JsonException e)
        {
            throw new CodesignException($"{path}: not a valid {typeof(T).Name}: {e.Message}");
        }
    }
}
