using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>tensor.transpose(x) {perm}</c>: result axis a is input axis perm[a].</summary>
public sealed class TransposeOp(IReadOnlyList<int> perm) : Op
{
    public IReadOnlyList<int> Perm { get; } = perm.ToArray();

    public override string Mnemonic => "tensor.transpose";
    public override IEnumerable<KeyValuePair<string, object>> Attributes => [new("perm", Perm.Select(p => Dim.Of(p)).ToArray())];

    public static TransposeOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("perm");
        var dims = attrs.Dims("perm");
        if (dims.Any(d => d.IsSymbolic || d.Size > int.MaxValue))
            throw new Diagnostics.VerificationException("tensor.transpose: perm must be a list of axis numbers");
        return new TransposeOp(dims.Select(d => (int)d.Size).ToArray());
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 1);
        var x = inputs[0];
        Require(Perm.Count == x.Rank && Perm.OrderBy(p => p).SequenceEqual(Enumerable.Range(0, x.Rank)),
            $"perm [{string.Join(", ", Perm)}] is not a permutation of {x.Rank} axes");
        RequireFloat(x, "x");
        return [x.WithShape(Perm.Select(p => x.Shape[p]))];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var x = inputs[0];
        var perm = Perm.ToArray();
        return [HostTensor.F32(perm.Select(p => x.Shape[p]).ToArray(), ShapeKernels.Transpose(x.Span, x.Shape, perm))];
    }
}
