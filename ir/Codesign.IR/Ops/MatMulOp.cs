using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>nn.matmul(x: [..., K], w: [N, K]) -> [..., N]</c>: y = x · wᵀ, the linear layer with the weight
/// in the [out, in] layout checkpoints store (so quantization groups run along K, contiguous in memory).
/// </summary>
public sealed class MatMulOp : Op
{
    public override string Mnemonic => "nn.matmul";

    public static MatMulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new MatMulOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs) =>
        InferLinearTypes(inputs, w => RequireFloat(w, "w"));

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        int k = x.Shape[^1], n = w.Shape[0];
        int m = ShapeMath.Rows(x.Shape);
        var y = MatMulKernel.Linear(x.Floats, w.Floats, m, n, k);
        return [HostTensor.F32([.. x.Shape[..^1], n], y)];
    }
}
