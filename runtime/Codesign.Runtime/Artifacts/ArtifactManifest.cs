using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Codesign.Backends.Cpu.Aot;
using Codesign.Backends.Fpga.Aot;
using Codesign.Backends.Gpu.Aot;

namespace Codesign.Runtime.Artifacts;

/// <summary>How the artifact's tokenizer is stored: a SentencePiece tokenizer.model as given, or a GGUF vocabulary as JSON.</summary>
public sealed record ArtifactTokenizer(string File, string Kind)
{
    public const string SentencePiece = "sentencepiece";
    public const string GgufVocabulary = "gguf-vocabulary";
}

/// <summary>Per-device parts of an artifact; a device the artifact was not compiled for is null.</summary>
public sealed record ArtifactDevices(CpuArtifactSection? Cpu, GpuArtifactSection? Gpu = null, FpgaArtifactSection? Fpga = null);

/// <summary>
/// manifest.json of an artifact directory: format and version, what it was compiled from, the lowered graph, the
/// tokenizer, the SHA-256 of every other file and a content hash over them, and each device's part; an artifact
/// compiled with a placement has no device part of its own but a <see cref="Schedule"/> whose segments each have one.
/// </summary>
public sealed record ArtifactManifest(
    string Format,
    int Version,
    string CodesignVersion,
    string Model,
    string? Recipe,
    string GraphFile,
    ArtifactTokenizer? Tokenizer,
    IReadOnlyDictionary<string, string> Files,
    string ContentHash,
    ArtifactDevices Devices,
    ArtifactSchedule? Schedule = null)
{
    public const string FileName = "manifest.json";
    public const string FormatName = "codesign-artifact";
    /// <summary>Bumped whenever the layout of the files or the kernels' calling convention changes.</summary>
    public const int CurrentVersion = 5;

    /// <summary>The files a manifest with these parts names, each of which must have a hash in <see cref="Files"/>.</summary>
    public static IEnumerable<string> NamedFiles(string graphFile, ArtifactTokenizer? tokenizer, ArtifactDevices devices, ArtifactSchedule? schedule)
    {
        yield return graphFile;
        if (tokenizer is not null) yield return tokenizer.File;
        foreach (var file in DeviceFiles(devices)) yield return file;
        foreach (var segment in schedule?.Segments ?? [])
        {
            yield return segment.GraphFile;
            foreach (var file in DeviceFiles(segment.Code)) yield return file;
        }
    }

    private static IEnumerable<string> DeviceFiles(ArtifactDevices devices)
    {
        if (devices.Cpu is { } cpu)
        {
            yield return cpu.KernelsFile;
            yield return cpu.WeightsFile;
        }
        if (devices.Gpu is { } gpu) yield return gpu.WeightsFile;
        if (devices.Fpga is { } fpga)
        {
            yield return fpga.MemoryFile;
            yield return fpga.ProgramFile;
            foreach (var file in fpga.RtlFiles) yield return file;
        }
    }

    public static string ThisCodesignVersion =>
        typeof(ArtifactManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 16,
    };
}
