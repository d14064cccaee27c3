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

    protected void RequireSameDim(Dim a, Dim b, string what) =>
        Require(a == b, $"{what}: {a} vs {b}");

    public override string ToString() => Mnemonic;
}
