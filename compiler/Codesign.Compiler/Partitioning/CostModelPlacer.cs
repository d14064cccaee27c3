using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Partitioning;

/// <summary>
/// Places each node on the device where it is cheapest for one decode step (the step a served model repeats): a
/// node costs a launch, its weight bytes over the device's memory bandwidth and its arithmetic over the device's
/// throughput, plus, for every operand produced on another device, the trip through the host. Nodes are placed
/// greedily in program order, each seeing where its operands were placed; symbolic dimensions count as one token.
/// </summary>
public static class CostModelPlacer
{
    public static DevicePlacement Place(Graph graph, IWeightStore weights, IReadOnlyList<DeviceProfile> devices)
    {
        if (devices.Count == 0) throw new ArgumentException("no devices to place on", nameof(devices));
        var placedOn = new Dictionary<Value, DeviceProfile>();
        var choice = new string[graph.Nodes.Count];
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            var best = devices.MinBy(d => NodeSeconds(node, weights, d) + node.Inputs.Where(v => v.Kind != ValueKind.Weight)
                .Sum(v => placedOn.TryGetValue(v, out var from) && from != d ? from.LinkSeconds(Bytes(v.Type)) + d.LinkSeconds(Bytes(v.Type))
                    : v.Kind == ValueKind.Input ? d.LinkSeconds(Bytes(v.Type)) : 0))!;
            choice[i] = best.Name;
            foreach (var v in node.Outputs) placedOn[v] = best;
        }
        return new DevicePlacement(graph, choice);
    }

    /// <summary>The modelled seconds of one node on one device.</summary>
    public static double NodeSeconds(Node node, IWeightStore weights, DeviceProfile device)
    {
        long weightBytes = node.Inputs.Where(v => v.Kind == ValueKind.Weight).Sum(v => (long)weights.Get(v.WeightKey!).Data.Length);
        long activationBytes = node.Inputs.Where(v => v.Kind != ValueKind.Weight).Sum(v => Bytes(v.Type)) + node.Outputs.Sum(v => Bytes(v.Type));
        return device.LaunchSeconds + (weightBytes + activationBytes) / device.MemoryBytesPerSecond + Flops(node) / device.FlopsPerSecond;
    }

    private static double Flops(Node node)
    {
        long outputs = node.Outputs.Sum(v => Elements(v.Type));
        return node.Op switch
        {
            // y[.., n] = sum over k: 2 flops per weight per token.
            MatMulOp or QMatMulOp or SpMatMulOp or LutMatMulOp => 2.0 * outputs * Elements(node.Inputs[0].Type) / Math.Max(1, Rows(node.Inputs[0].Type)),
            AttentionOp => 4.0 * outputs * 256, // a typical context length: scores and weighted sum per cached position
            _ => 4.0 * outputs,
        };
    }

    private static long Elements(TensorType t) => t.Shape.Aggregate(1L, (a, d) => a * (d.IsSymbolic ? 1 : d.Size));
    private static long Rows(TensorType t) => t.Rank <= 1 ? 1 : Elements(t) / (t.Shape[^1].IsSymbolic ? 1 : t.Shape[^1].Size);
    private static long Bytes(TensorType t) => Elements(t) * (t.DType.IsPacked ? 1 : t.DType.ByteSize);
}
