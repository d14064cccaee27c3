using Codesign.IR.Graphs;

namespace Codesign.Compiler.Partitioning;

/// <summary>
/// One run of consecutive nodes on one device, as a graph of its own: its inputs are the graph inputs and the other
/// segments' results it reads (the transfers into it), its outputs what later segments or the graph's outputs read.
/// </summary>
public sealed record GraphSegment(int Index, string Device, Graph Graph);

/// <summary>A value that crosses from the device that produces it (or the host, for a graph input) to one that reads it.</summary>
public sealed record Transfer(string Value, string From, string To, int ToSegment);

/// <summary>
/// A graph split by a <see cref="DevicePlacement"/> into segments run in order. <see cref="LastReader"/> plans the host
/// buffers between segments by liveness: a crossing value is dropped after the last segment that reads it.
/// </summary>
public sealed record PartitionPlan(Graph Graph, DevicePlacement Placement, IReadOnlyList<GraphSegment> Segments, IReadOnlyList<Transfer> Transfers,
    IReadOnlyDictionary<string, int> LastReader)
{
    /// <summary>Host name of graph inputs in <see cref="Transfer.From"/>.</summary>
    public const string Host = "host";

    public IEnumerable<string> Describe()
    {
        foreach (var s in Segments)
        {
            var into = Transfers.Where(t => t.ToSegment == s.Index && t.From != s.Device).Select(t => $"%{t.Value} from {t.From}");
            yield return $"segment {s.Index} on {s.Device}: {s.Graph.Nodes.Count} nodes ({string.Join(", ", s.Graph.Nodes.GroupBy(n => OpClasses.Of(n.Op)).Select(g => $"{g.Key} {g.Count()}"))})"
                + (into.Any() ? $"; in: {string.Join(", ", into)}" : "");
        }
    }
}
