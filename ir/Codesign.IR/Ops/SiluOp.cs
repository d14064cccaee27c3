using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>nn.silu(x)</c> = x · sigmoid(x), elementwise.</summary>
public sealed class SiluOp : Op
{
    public override string Mnemonic => "nn.silu";

    public static SiluOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new SiluOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 1);
        RequireFloat(inputs[0], "x");
        return [inputs[0].WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context) =>
        [HostTensor.F32(inputs[0].Shape, ElementwiseKernels.Silu(inputs[0].Span))];
}
