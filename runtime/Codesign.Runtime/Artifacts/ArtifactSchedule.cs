using Codesign.Compiler.Partitioning;

namespace Codesign.Runtime.Artifacts;

/// <summary>One segment of a placed artifact: its device, its graph as that device runs it, and that device's files.</summary>
public sealed record ArtifactSegment(int Index, string Device, string GraphFile, ArtifactDevices Code);

/// <summary>
/// The plan of an artifact compiled with <c>--placement</c>. <see cref="NodeDevices"/> gives the device of every node
/// of the artifact's graph (graph.cir, as compressed); the loader splits that graph again with
/// <see cref="GraphPartitioner"/> and checks that it gets <see cref="Segments"/>, so the plan that runs is the one
/// compiled. <see cref="Transfers"/> lists the values crossing devices, for people and tools reading the manifest.
/// </summary>
public sealed record ArtifactSchedule(string Placement, IReadOnlyList<string> NodeDevices, IReadOnlyList<ArtifactSegment> Segments, IReadOnlyList<Transfer> Transfers)
{
    /// <summary>Devices a compiled placement may name: those whose code an artifact can carry.</summary>
    public static readonly string[] Devices = ["cpu", "gpu"];

    /// <summary>The folder of a segment's files.</summary>
    public static string Folder(GraphSegment segment) => $"segments/{segment.Index}-{segment.Device}";
}
