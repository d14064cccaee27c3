using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>tensor.reshape(x) {shape}</c>: same elements, new shape; symbolic dims must match as a multiset.</summary>
public sealed class ReshapeOp(IReadOnlyList<Dim> shape) : Op
{
    public IReadOnlyList<Dim> Shape { get; } = shape.ToArray();

    public override string Mnemonic => "tensor.reshape";
    public override IEnumerable<KeyValuePair<string, object>> Attributes => [new("shape", Shape.ToArray())];

    public static ReshapeOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("shape");
        return new ReshapeOp(attrs.Dims("shape"));
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 1);
        var x = inputs[0];
        var target = x.WithShape(Shape);
        var (k0, s0) = x.ElementCount();
        var (k1, s1) = target.ElementCount();
        Require(k0 == k1 && s0.SequenceEqual(s1),
            $"cannot reshape [{string.Join(", ", x.Shape)}] to [{string.Join(", ", Shape)}]: element counts differ");
        return [target];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var x = inputs[0];
        var shape = Shape.Select(context.Resolve).ToArray();
        return x.Ints is { } ints ? [HostTensor.I32(shape, ints)] : [HostTensor.F32(shape, x.Floats)];
    }
}
