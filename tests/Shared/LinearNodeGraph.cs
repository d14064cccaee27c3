using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.Testing;

/// <summary>The one-node graph y = op(x: [seq, K], w: [N, K]) over a store holding only w, for testing one linear kernel.</summary>
internal static class LinearNodeGraph
{
    public static (Graph Graph, LayeredWeightStore Store) Build(Op op, IPackedMatrix w)
    {
        var dtype = PackedWeightCodec.DTypeOf(w);
        return Build(op, PackedWeightCodec.Encode("w", dtype, w), dtype, checked((int)w.Rows), checked((int)w.Cols));
    }

    public static (Graph Graph, LayeredWeightStore Store) Build(Op op, WeightTensor weight, DType dtype, int n, int k)
    {
        var b = new GraphBuilder("node");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", k));
        var graph = b.Return(b.Apply(op, "y", x, b.Weight(weight.Key, TensorType.Of(dtype, n, k))));
        var store = new LayeredWeightStore();
        store.Set(weight);
        return (graph, store);
    }
}
