using Codesign.IR.Graphs;

namespace Codesign.Compiler.Partitioning;

/// <summary>Which device runs each node of a graph (<see cref="NodeDevices"/> is in node order).</summary>
public sealed class DevicePlacement
{
    public DevicePlacement(Graph graph, IReadOnlyList<string> nodeDevices)
    {
        if (nodeDevices.Count != graph.Nodes.Count)
            throw new ArgumentException($"{nodeDevices.Count} devices for {graph.Nodes.Count} nodes", nameof(nodeDevices));
        Graph = graph;
        NodeDevices = nodeDevices;
    }

    public Graph Graph { get; }
    public IReadOnlyList<string> NodeDevices { get; }

    /// <summary>The devices used, in order of first use.</summary>
    public IReadOnlyList<string> Devices => NodeDevices.Distinct().ToArray();

    /// <summary>Nodes per device per op class, for reports: "gpu: matmul 154; cpu: norm 45, ...".</summary>
    public string Summary() => string.Join("; ", Devices.Select(d =>
        $"{d}: " + string.Join(", ", Graph.Nodes.Where((_, i) => NodeDevices[i] == d).GroupBy(n => OpClasses.Of(n.Op)).Select(g => $"{g.Key} {g.Count()}"))));
}
