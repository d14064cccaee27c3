using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>sparse.spmatmul(x: [..., K], w: [N, K] sparse&lt;format, element&gt;) -> [..., N]</c>: y = x · wᵀ where w
/// stores only its kept weights (N:M, block or unstructured; float or quantized elements). Pruned weights
/// are exactly zero, so the result is the dense matmul on the decoded weights.
/// </summary>
public sealed class SpMatMulOp : Op
{
    public override string Mnemonic => "sparse.spmatmul";

    public static SpMatMulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new SpMatMulOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 2);
        var (x, w) = (inputs[0], inputs[1]);
        RequireFloat(x, "x");
        Require(w.DType.Kind == DTypeKind.Sparse, $"w must be sparse, found {w.DType}");
        Require(x.Rank >= 1, "x must have at least one dimension");
        Require(w.Rank == 2, $"w must be [N, K], found rank {w.Rank}");
        RequireSameDim(x[-1], w[1], "inner dimensions differ (x[..., K] vs w[N, K])");
        var format = w.DType.Sparsity!;
        if (format.Kind == SparseKind.NOfM && !w[1].IsSymbolic)
            Require(w[1].Size % format.M == 0, $"{format} sparsity needs K ({w[1]}) to be a multiple of {format.M}");
        return [TensorType.Of(DType.F32, [.. x.Shape.Take(x.Rank - 1), w[0]])];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        int n = w.Shape[0], k = w.Shape[1];
        var y = MatMulKernel.Linear(x.Floats, w.DenseFloats, ShapeMath.Rows(x.Shape), n, k);
        return [HostTensor.F32([.. x.Shape[..^1], n], y)];
    }
}
