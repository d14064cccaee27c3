using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>nn.rope(x: [S, H, Dh], positions: [S] int) {theta}</c>: rotary position embedding, rotate-half layout
/// as in Hugging Face LLaMA.
/// </summary>
public sealed class RopeOp(double theta) : Op
{
    public double Theta { get; } = theta;

    public override string Mnemonic => "nn.rope";
    public override IEnumerable<KeyValuePair<string, object>> Attributes => [new("theta", Theta)];

    public static RopeOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("theta");
        return new RopeOp(attrs.Float("theta"));
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 2);
        var (x, pos) = (inputs[0], inputs[1]);
        RequireFloat(x, "x");
        Require(x.Rank == 3, $"x must be [seq, heads, head_dim], found rank {x.Rank}");
        Require(pos.Rank == 1 && pos.DType.IsInteger, $"positions must be a 1-d integer tensor, found {pos}");
        RequireSameDim(x[0], pos[0], "x and positions disagree on the sequence length");
        Require(x[2].IsSymbolic || x[2].Size % 2 == 0, $"head_dim must be even, found {x[2]}");
        Require(Theta > 0, $"theta must be positive, found {Theta}");
        return [x.WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var x = inputs[0];
        var pos = inputs[1].RequireInts("positions");
        return [HostTensor.F32(x.Shape, RopeKernel.Apply(x.Span, pos, x.Shape[0], x.Shape[1], x.Shape[2], Theta))];
    }
}
