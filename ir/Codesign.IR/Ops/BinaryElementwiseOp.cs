using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>Elementwise op of two operands of the same shape.</summary>
public abstract class BinaryElementwiseOp : Op
{
    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 2);
        RequireFloat(inputs[0], "lhs");
        RequireFloat(inputs[1], "rhs");
        Require(inputs[0].Shape.SequenceEqual(inputs[1].Shape),
            $"operands must have the same shape, found [{string.Join(", ", inputs[0].Shape)}] and [{string.Join(", ", inputs[1].Shape)}]");
        return [inputs[0].WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context) =>
        [HostTensor.F32(inputs[0].Shape, Compute(inputs[0].Span, inputs[1].Span))];

    protected abstract float[] Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b);
}

/// <summary><c>math.add(a, b)</c>.</summary>
public sealed class AddOp : BinaryElementwiseOp
{
    public override string Mnemonic => "math.add";

    public static AddOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new AddOp();
    }

    protected override float[] Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => ElementwiseKernels.Add(a, b);
}

/// <summary><c>math.mul(a, b)</c>.</summary>
public sealed class MulOp : BinaryElementwiseOp
{
    public override string Mnemonic => "math.mul";

    public static MulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new MulOp();
    }

    protected override float[] Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => ElementwiseKernels.Mul(a, b);
}
