using Codesign.IR.Analysis;
using Codesign.IR.Graphs;
using Codesign.IR.Values;

namespace Codesign.Compiler.Partitioning;

/// <summary>
/// Splits a placed graph into device segments: consecutive nodes on the same device form one segment (nodes stay in
/// program order, which is a topological order), and every value read across a segment boundary becomes an output of
/// the segment producing it, an input of each segment reading it, and a transfer where the devices differ.
/// </summary>
public static class GraphPartitioner
{
    public static PartitionPlan Split(DevicePlacement placement)
    {
        var graph = placement.Graph;
        var runs = new List<(string Device, List<Node> Nodes)>();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            if (runs.Count == 0 || runs[^1].Device != placement.NodeDevices[i]) runs.Add((placement.NodeDevices[i], []));
            runs[^1].Nodes.Add(graph.Nodes[i]);
        }

        var segmentOf = new Dictionary<Value, int>();
        for (int s = 0; s < runs.Count; s++)
            foreach (var n in runs[s].Nodes)
                foreach (var v in n.Outputs) segmentOf[v] = s;

        // What each segment reads from outside itself (graph inputs and earlier segments' results), in first-use order.
        var reads = runs.Select((r, s) => r.Nodes.SelectMany(n => n.Inputs)
            .Where(v => v.Kind == ValueKind.Input || (v.Kind == ValueKind.Result && segmentOf[v] != s)).Distinct().ToList()).ToList();
        var exported = new HashSet<Value>(reads.SelectMany(r => r).Where(v => v.Kind == ValueKind.Result).Concat(graph.Outputs));

        var segments = new List<GraphSegment>();
        var transfers = new List<Transfer>();
        var lastReader = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < runs.Count; s++)
        {
            var (device, nodes) = runs[s];
            var sub = new Graph($"{graph.Name}_s{s}_{device}");
            foreach (var kv in graph.Attributes) sub.SetAttribute(kv.Key, kv.Value);
            foreach (var v in reads[s])
            {
                sub.AddInput(v.Name, v.Type);
                string from = v.Kind == ValueKind.Input ? PartitionPlan.Host : runs[segmentOf[v]].Device;
                transfers.Add(new Transfer(v.Name, from, device, s));
                lastReader[v.Name] = s;
            }
            foreach (var w in nodes.SelectMany(n => n.Inputs).Where(v => v.Kind == ValueKind.Weight).Distinct())
                sub.AddWeight(w.Name, w.WeightKey!, w.Type);
            foreach (var n in nodes)
                sub.AddNode(n.Op, n.Inputs.Select(v => sub.GetValue(v.Name)).ToArray(), n.Outputs.Select(v => v.Name).ToArray(), n.Outputs.Select(v => v.Type).ToArray());
            sub.SetOutputs(nodes.SelectMany(n => n.Outputs).Where(exported.Contains).Select(v => sub.GetValue(v.Name)));
            Verifier.Verify(sub);
            segments.Add(new GraphSegment(s, device, sub));
        }
        return new PartitionPlan(graph, placement, segments, transfers, lastReader);
    }
}
