using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>nn.rms_norm(x: [..., D], w: [D]) {eps}</c>: x / sqrt(mean(x²) + eps) · w over the last axis.</summary>
public sealed class RmsNormOp(double eps) : Op
{
    public double Eps { get; } = eps;

    public override string Mnemonic => "nn.rms_norm";
    public override IEnumerable<KeyValuePair<string, object>> Attributes => [new("eps", Eps)];

    public static RmsNormOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("eps");
        return new RmsNormOp(attrs.Float("eps"));
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 2);
        var (x, w) = (inputs[0], inputs[1]);
        RequireFloat(x, "x");
        RequireFloat(w, "weight");
        Require(w.Rank == 1, $"weight must be [D], found rank {w.Rank}");
        Require(x.Rank >= 1, "x must have at least one dimension");
        RequireSameDim(x[-1], w[0], "normalised dimension differs from the weight's");
        Require(Eps > 0, $"eps must be positive, found {Eps}");
        return [x.WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var x = inputs[0];
        int d = x.Shape[^1];
        return [HostTensor.F32(x.Shape, NormKernels.RmsNorm(x.Span, inputs[1].Span, ShapeMath.Rows(x.Shape), d, Eps))];
    }
}
