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
        var result = InferLinearTypes(inputs, w => Require(w.DType.Kind == DTypeKind.Sparse, $"w must be sparse, found {w.DType}"));
        var w = inputs[1];
        var format = w.DType.Sparsity!;
        if (format.Kind == SparseKind.NOfM && !w[1].IsSymbolic)
            Require(w[1].Size % format.M == 0, $"{format} sparsity needs K ({w[1]}) to be a multiple of {format.M}");
        return result;
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        int n = w.Shape[0], k = w.Shape[1];
        var y = MatMulKernel.Linear(x.Floats, w.DenseFloats, ShapeMath.Rows(x.Shape), n, k);
        return [HostTensor.F32([.. x.Shape[..^1], n], y)];
    }
}
