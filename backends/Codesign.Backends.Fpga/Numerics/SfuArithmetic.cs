using Codesign.IR.Semantics;

namespace Codesign.Backends.Fpga.Numerics;

/// <summary>
/// What the special-function unit computes, operation by operation, as the RTL computes it: binary32 values,
/// every + − × ÷ √ one IEEE rounding to nearest even (C#'s float arithmetic), exponentials by <see cref="Fp32Exp"/>,
/// sums in index order. Against the interpreter: add, multiply and rope (from the interpreter's own cos/sin table)
/// are the same bits; rms_norm differs in summing squares in f32 rather than f64; silu and softmax in the
/// exponential and the order of their sums (docs/fpga.md gives the measured differences).
/// </summary>
public static class SfuArithmetic
{
    /// <summary>
    /// y = (x · inv) · γ with inv = (float)(1 / √(Σx²/d + eps)) in binary64, the squares exact and summed in index
    /// order: the interpreter's rms_norm (<see cref="NormKernels.RmsNorm"/>) bit for bit. f64 costs the unit one
    /// adder, divider and square root of double width, and buys exactness where it matters most: every rms_norm
    /// output is quantized to int8 next, and an f32 sum's last-bit differences flip activation codes.
    /// </summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, double eps, Span<float> y) =>
        NormKernels.RmsNorm(x, gamma, 1, x.Length, eps).CopyTo(y);

    /// <summary>x · (1 / (1 + e^−x)).</summary>
    public static float Silu(float x) => x * (1f / (1f + Fp32Exp.Exp(-x)));

    /// <summary>Rotate-half rope of one head's row from its position's cosines and sines: the interpreter's rotation.</summary>
    public static void Rope(ReadOnlySpan<float> x, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, Span<float> y) =>
        RopeKernel.RotateHead(x, cos, sin, y);

    /// <summary>
    /// One KV tile of the online softmax for one (token, head) row: the first <paramref name="visible"/> scores (the
    /// keys the token may see: the causal mask) become scale · score, the running max m and sum l take them in, they
    /// are replaced by p = e^(s − m), the masked ones by p = +0, and the output accumulated so far is rescaled by
    /// e^(m_old − m) (or cleared on the first tile), ready for the matrix engine to add Σ p·v.
    /// </summary>
    public static void SoftmaxTile(Span<float> scores, int visible, float scale, ref float max, ref float sum, Span<float> output, bool first)
    {
        if (first)
        {
            max = float.NegativeInfinity;
            sum = 0f;
        }
        float tileMax = float.NegativeInfinity;
        for (int j = 0; j < visible; j++)
        {
            scores[j] *= scale;
            tileMax = MathF.Max(tileMax, scores[j]);
        }
        float newMax = MathF.Max(max, tileMax);
        float correction = first ? 0f : Fp32Exp.Exp(max - newMax);
        float total = sum * correction;
        for (int j = 0; j < visible; j++)
        {
            scores[j] = Fp32Exp.Exp(scores[j] - newMax);
            total += scores[j];
        }
        scores[visible..].Clear();
        for (int d = 0; d < output.Length; d++) output[d] = first ? 0f : output[d] * correction;
        max = newMax;
        sum = total;
    }

    /// <summary>The attention output row divided by its softmax sum.</summary>
    public static void SoftmaxFinish(Span<float> output, float sum)
    {
        for (int d = 0; d < output.Length; d++) output[d] /= sum;
    }

    /// <summary>
    /// A whole row of scores to the probabilities the matrix cores quantize: the first <paramref name="visible"/> become
    /// s = scale · score, m their max, e = e^(s − m) summed in order, and p = (e / sum) · the value scale of kv head
    /// <paramref name="kvHead"/> at that position (<paramref name="valueScales"/>[j · kvStride + kvHead]); the rest of
    /// the row +0.
    /// </summary>
    public static void AttentionProbabilities(Span<float> row, int visible, float scale, ReadOnlySpan<float> valueScales, int kvStride, int kvHead)
    {
        float max = float.NegativeInfinity, sum = 0f;
        for (int j = 0; j < visible; j++)
        {
            row[j] *= scale;
            max = MathF.Max(max, row[j]);
        }
        for (int j = 0; j < visible; j++)
        {
            row[j] = Fp32Exp.Exp(row[j] - max);
            sum += row[j];
        }
        for (int j = 0; j < visible; j++) row[j] = row[j] / sum * valueScales[j * kvStride + kvHead];
        row[visible..].Clear();
    }
}
