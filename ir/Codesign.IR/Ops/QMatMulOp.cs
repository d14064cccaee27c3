using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>quant.qmatmul(x: [..., K], w: [N, K] quant&lt;…&gt;) {accumulate, act_bits}</c>: y = x · wᵀ with w group-wise
/// quantized (weight = scale · (code − zero)).
/// <list type="bullet">
/// <item><c>accumulate = "weight"</c> (default): dequantize the weights exactly in f32, then an f32 matmul.</item>
/// <item><c>accumulate = "group"</c>: MixPE's dequantize-after-group — integer-weight partial sums per group, scaled once per group.</item>
/// <item><c>act_bits = 8</c> (or 4): activations quantized per token too (W4A8); the per-group sums are exact integers.</item>
/// </list>
/// </summary>
public sealed class QMatMulOp(string accumulate = QMatMulOp.WeightAccumulate, long actBits = 0) : Op
{
    public const string WeightAccumulate = "weight";
    public const string GroupAccumulate = "group";

    public string Accumulate { get; } = accumulate;
    public long ActBits { get; } = actBits;

    public override string Mnemonic => "quant.qmatmul";

    public override IEnumerable<KeyValuePair<string, object>> Attributes
    {
        get
        {
            if (Accumulate != WeightAccumulate) yield return new("accumulate", Accumulate);
            if (ActBits != 0) yield return new("act_bits", ActBits);
        }
    }

    public static QMatMulOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("accumulate", "act_bits");
        return new QMatMulOp(attrs.String("accumulate", WeightAccumulate), attrs.Int("act_bits", 0));
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        var result = InferLinearTypes(inputs, w => Require(w.DType.Kind == DTypeKind.Quantized, $"w must be quantized, found {w.DType}"));
        Require(Accumulate is WeightAccumulate or GroupAccumulate, $"accumulate is \"weight\" or \"group\", not \"{Accumulate}\"");
        Require(ActBits is 0 or 4 or 8, $"act_bits is 0 (f32 activations), 4 or 8, not {ActBits}");
        return result;
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (x, w) = (inputs[0], inputs[1]);
        var matrix = (QuantizedMatrix)w.Packed!;
        int m = ShapeMath.Rows(x.Shape);
        var y = ActBits != 0 ? QMatMulKernel.IntegerGroupAccumulate(x.Floats, matrix, m, (int)ActBits)
            : Accumulate == GroupAccumulate ? QMatMulKernel.GroupAccumulate(x.Floats, matrix, m)
            : MatMulKernel.Linear(x.Floats, w.DenseFloats, m, matrix.Rows, matrix.Cols);
        return [HostTensor.F32([.. x.Shape[..^1], matrix.Rows], y)];
    }
}
