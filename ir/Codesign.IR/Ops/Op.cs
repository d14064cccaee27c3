using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// One operation kind. Each sealed subclass is the single definition of its op: mnemonic and
/// attributes for the text form, the type/shape rule the verifier checks, and the reference
/// semantics the interpreter runs.
/// </summary>
public abstract class Op
{
    /// <summary>Dotted name in the text form, e.g. <c>nn.matmul</c>.</summary>
    public abstract string Mnemonic { get; }

    /// <summary>Attributes in the order they print.</summary>
    public virtual IEnumerable<KeyValuePair<string, object>> Attributes => [];

    /// <summary>Result types for these operand types; throws <see cref="VerificationException"/> with the broken rule.</summary>
    public abstract TensorType[] InferTypes(IReadOnlyList<TensorType> inputs);

    /// <summary>Reference semantics in f32 (exact integer arithmetic where the op is integer).</summary>
    public abstract HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context);

    protected void Require(bool condition, string rule)
    {
        if (!condition) throw new VerificationException($"{Mnemonic}: {rule}");
    }

    protected void RequireArity(IReadOnlyList<TensorType> inputs, int count)
    {
        if (inputs.Count != count)
            throw new VerificationException($"{Mnemonic}: takes {count} operand(s), got {inputs.Count}");
    }

    protected void RequireFloat(TensorType t, string operand) =>
        Require(t.DType.IsFloat, $"{operand} must be a float tensor, found {t.DType}");

    /// <summary>
    /// The shape rule every linear-layer op shares: x [..., K] (float) times w [N, K] gives f32 [..., N].
    /// <paramref name="checkWeight"/> states what the op accepts as w's dtype.
    /// </summary>
    protected TensorType[] InferLinearTypes(IReadOnlyList<TensorType> inputs, Action<TensorType> checkWeight)
    {
        RequireArity(inputs, 2);
        var (x, w) = (inputs[0], inputs[1]);
        RequireFloat(x, "x");
        checkWeight(w);
        Require(x.Rank >= 1, "x must have at least one dimension");
        Require(w.Rank == 2, $"w must be [N, K], found rank {w.Rank}");
        RequireSameDim(x[-1], w[1], "inner dimensions differ (x[..., K] vs w[N, K])");
        return [TensorType.Of(DType.F32, [.. x.Shape.Take(x.Rank - 1), w[0]])];
    }

    protected void RequireSameDim(Dim a, Dim b, string what) =>
        Require(a == b, $"{what}: {a} vs {b}");

    public override string ToString() => Mnemonic;
}
