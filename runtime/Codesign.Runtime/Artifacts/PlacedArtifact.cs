using Codesign.Backends.Cpu.Aot;
using Codesign.Backends.Gpu.Aot;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Values;
using Codesign.Runtime.Scheduling;

namespace Codesign.Runtime.Artifacts;

/// <summary>
/// Runs an artifact compiled with <c>--placement</c>: the plan is split again from the graph and the recorded node
/// devices and must give the recorded segments, and each segment runs the code its folder carries on its device.
/// </summary>
internal static class PlacedArtifact
{
    public static PartitionedSession Open(CompiledArtifact artifact, ArtifactSchedule schedule, int threads, Action<string>? notice)
    {
        string manifest = Path.Combine(artifact.Directory, ArtifactManifest.FileName);
        var plan = Plan(artifact.Graph, schedule, manifest);
        var devices = new SegmentDevices(threads, notice);
        return PartitionedSessions.Assemble(plan, devices, segment =>
        {
            var stored = schedule.Segments[segment.Index];
            var graph = SegmentGraph(artifact.Directory, stored, segment);
            return segment.Device switch
            {
                "cpu" when stored.Code.Cpu is { } cpu => new CpuSegmentRunner(CpuArtifact.Load(artifact.Directory, cpu, graph, threads, devices.Launcher)),
                "gpu" when stored.Code.Gpu is { } gpu => new GpuSegmentRunner(GpuArtifact.Load(artifact.Directory, gpu, graph, devices.Gpu)),
                _ => throw new CodesignException($"{manifest}: segment {segment.Index} on {segment.Device} carries no {segment.Device} code"),
            };
        });
    }

    private static PartitionPlan Plan(Graph graph, ArtifactSchedule schedule, string manifest)
    {
        if (schedule.NodeDevices.Count != graph.Nodes.Count)
            throw new CodesignException($"{manifest}: the schedule places {schedule.NodeDevices.Count} nodes; the graph has {graph.Nodes.Count}");
        foreach (var d in schedule.NodeDevices.Distinct())
            if (!ArtifactSchedule.Devices.Contains(d))
                throw new CodesignException($"{manifest}: the schedule names device '{d}'; an artifact carries code for {string.Join(" and ", ArtifactSchedule.Devices)}");
        var plan = GraphPartitioner.Split(new DevicePlacement(graph, schedule.NodeDevices));
        bool same = plan.Segments.Count == schedule.Segments.Count
            && plan.Segments.Zip(schedule.Segments).All(p => p.First.Index == p.Second.Index && p.First.Device == p.Second.Device);
        if (!same)
            throw new CodesignException($"{manifest}: the schedule's segments ({Describe(schedule.Segments.Select(s => s.Device))}) are not the split of its node devices ({Describe(plan.Segments.Select(s => s.Device))})");
        return plan;
    }

    /// <summary>The segment's graph as its device runs it; it must read and produce the values the plan gives it.</summary>
    private static Graph SegmentGraph(string directory, ArtifactSegment stored, GraphSegment planned)
    {
        string path = ArtifactPaths.Inside(directory, stored.GraphFile);
        var graph = CompiledArtifact.ReadGraph(directory, stored.GraphFile);
        static string Names(IEnumerable<Value> values) => string.Join(", ", values.Select(v => $"%{v.Name}").Order(StringComparer.Ordinal));
        if (Names(graph.Inputs) != Names(planned.Graph.Inputs) || Names(graph.Outputs) != Names(planned.Graph.Outputs))
            throw new CodesignException($"{path}: reads {Names(graph.Inputs)} and gives {Names(graph.Outputs)}; segment {planned.Index} of the plan reads {Names(planned.Graph.Inputs)} and gives {Names(planned.Graph.Outputs)}");
        return graph;
    }

    private static string Describe(IEnumerable<string> devices) => string.Join(", ", devices);
}
