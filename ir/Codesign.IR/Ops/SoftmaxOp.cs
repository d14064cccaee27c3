using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>nn.softmax(x)</c> over the last axis.</summary>
public sealed class SoftmaxOp : Op
{
    public override string Mnemonic => "nn.softmax";

    public static SoftmaxOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new SoftmaxOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 1);
        RequireFloat(inputs[0], "x");
        Require(inputs[0].Rank >= 1, "x must have at least one dimension");
        return [inputs[0].WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var x = inputs[0];
        return [HostTensor.F32(x.Shape, NormKernels.Softmax(x.Span, ShapeMath.Rows(x.Shape), x.Shape[^1]))];
    }
}
