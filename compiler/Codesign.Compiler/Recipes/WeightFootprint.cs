using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Recipes;

/// <summary>Stored bytes of a graph's weights, and bits per weight over the linear layers (what compression acts on).</summary>
public sealed record WeightFootprint(long TotalBytes, long LinearBytes, long LinearWeights, long CompressedBytes, long CompressedWeights)
{
    public double LinearBitsPerWeight => LinearWeights == 0 ? 0 : LinearBytes * 8.0 / LinearWeights;
    /// <summary>Over the layers stored packed (quantized or sparse) only.</summary>
    public double CompressedBitsPerWeight => CompressedWeights == 0 ? 0 : CompressedBytes * 8.0 / CompressedWeights;

    public static WeightFootprint Of(Graph graph, IWeightStore store)
    {
        var linear = graph.Nodes.Where(n => n.Op is MatMulOp or QMatMulOp or SpMatMulOp).Select(n => n.Inputs[1]).Where(w => w.WeightKey is not null).ToHashSet();
        long total = 0, linearBytes = 0, linearWeights = 0, packedBytes = 0, packedWeights = 0;
        foreach (var w in graph.Weights)
        {
            long bytes = store.Get(w.WeightKey!).Data.Length;
            total += bytes;
            if (!linear.Contains(w)) continue;
            linearBytes += bytes;
            long count = w.Type.Shape.Aggregate(1L, (a, d) => a * d.Size);
            linearWeights += count;
            if (!w.Type.DType.IsPacked) continue;
            packedBytes += bytes;
            packedWeights += count;
        }
        return new WeightFootprint(total, linearBytes, linearWeights, packedBytes, packedWeights);
    }
}
