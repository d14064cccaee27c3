using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>sparse.spmatmul(x: [..., K], w: [N, K] sparse&lt;format, element&gt;) {act_bits} -> [..., N]</c>: y = x · wᵀ where
/// w stores only its kept weights (N:M, block or unstructured; float or quantized elements). Pruned weights are
/// exactly zero, so the result is the dense matmul on the decoded weights.
/// <list type="bullet">
/// <item><c>act_bits = 0</c> (default): f32 activations times the decoded weights.</item>
/// <item><c>act_bits = 8</c> (or 4), quantized elements only: activations quantized per token and exact integer group
/// sums, as <see cref="QMatMulOp"/> with the same <c>act_bits</c> computes them on the pruned codes (a pruned code is
/// the zero point, so it adds exactly 0). This is what integer hardware (the fpga's sparse DSP chain) executes.</item>
/// </list>
/// </summary>
public sealed class SpMatMulOp(long actBits = 0) : Op
{
    public long ActBits { get; } = actBits;

    public override string Mnemonic => "sparse.spmatmul";

    public override IEnumerable<KeyValuePair<string, object>> Attributes
    {
        get
        {
            if (ActBits != 0) yield return new("act_bits", ActBits);
        }
    }

    public static SpMatMulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("act_bits");
        return new SpMatMulOp(attrs.Int("act_bits", 0));
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        var result = InferLinearTypes(inputs, w => Require(w.DType.Kind == DTypeKind.Sparse, $"w must be sparse, found {w.DType}"));
        var w = inputs[1];
        var format = w.DType.Sparsity!;
        if (format.Kind == SparseKind.NOfM && !w[1].IsSymbolic)
            Require(w[1].Size % format.M == 0, $"{format} sparsity needs K ({w[1]}) to be a multiple of {format.M}");
        Require(ActBits is 0 or 4 or 8, $"act_bits is 0 (f32 activations), 4 or 8, not {ActBits}");
        Require(ActBits == 0 || w.DType.Element!.Kind == DTypeKind.Quantized, $"act_bits = {ActBits} needs quantized kept weights, found {w.DType}");
        return result;
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        int n = w.Shape[0], k = w.Shape[1], m = ShapeMath.Rows(x.Shape);
        var y = ActBits != 0 ? QMatMulKernel.IntegerGroupAccumulate(x.Floats, ((SparseMatrix)w.Packed!).Quantized!, m, (int)ActBits)
            : MatMulKernel.Linear(x.Floats, w.DenseFloats, m, n, k);
        return [HostTensor.F32([.. x.Shape[..^1], n], y)];
    }
}
