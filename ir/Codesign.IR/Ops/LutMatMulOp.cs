using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>lut.mpgemm(x: [..., K], w: [N, K] quant&lt;int1..4 | ternary&gt;) -> [..., N]</c>: y = x · wᵀ computed as T-MAC
/// does, by table lookup over bit planes with int8 activation tables (<see cref="LutMpGemmKernel"/> defines the
/// arithmetic). The weight is the same packed tensor quant.qmatmul reads; the lowering that chooses this op
/// accepts the table quantization's error for the speed of lookups.
/// </summary>
public sealed class LutMatMulOp : Op
{
    public override string Mnemonic => "lut.mpgemm";

    public static LutMatMulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new LutMatMulOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs) =>
        InferLinearTypes(inputs, w => Require(w.DType.Kind == DTypeKind.Quantized && LutMpGemmKernel.Supports(w.DType.Scheme!),
            $"w must be quantized to 1–4 bits or ternary, found {w.DType}"));

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        var matrix = (QuantizedMatrix)w.Packed!;
        var y = LutMpGemmKernel.Evaluate(x.Floats, matrix, ShapeMath.Rows(x.Shape));
        return [HostTensor.F32([.. x.Shape[..^1], matrix.Rows], y)];
    }
}
