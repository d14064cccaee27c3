using System.Numerics.Tensors;
using Codesign.IR.Quantization;

namespace Codesign.IR.Semantics;

/// <summary>
/// The group-wise forms of y = x · wᵀ for a quantized w [N, K]. (The dequantize-first form is
/// <see cref="MatMulKernel.Linear"/> on the exact dequantized weights.)
/// </summary>
public static class QMatMulKernel
{
    /// <summary>
    /// MixPE: per group, p = Σ x·(code − zero) over the group's columns (f32), then y += scale · p, groups
    /// in order. Agrees with dequantize-first up to f32 rounding.
    /// </summary>
    public static float[] GroupAccumulate(ReadOnlyMemory<float> x, QuantizedMatrix w, int m)
    {
        int n = w.Rows, k = w.Cols, g = w.GroupLength, groups = w.Groups;
        var centered = w.CenteredCodes();
        var y = new float[(long)m * n];
        Parallel.For(0, n, () => new float[k], (col, _, codes) =>
        {
            for (int c = 0; c < k; c++) codes[c] = (float)centered[(long)col * k + c];
            for (int row = 0; row < m; row++)
            {
                var xrow = x.Span.Slice(row * k, k);
                float acc = 0f;
                for (int gi = 0; gi < groups; gi++)
                {
                    int start = gi * g, len = Math.Min(g, k - start);
                    float partial = 0f;
                    for (int c = start; c < start + len; c++) partial += xrow[c] * codes[c];
                    acc += w.Scale(col, gi) * partial;
                }
                y[(long)row * n + col] = acc;
            }
            return codes;
        }, _ => { });
        return y;
    }

    /// <summary>
    /// Weights and activations both integer (W4A8 as QServe runs it): each token row is quantized by
    /// <see cref="ActivationQuantizer"/> to <paramref name="actBits"/>; per group the integer dot product
    /// Σ a·(code − zero) is exact (<see cref="IntegerGroupDots"/>); y = Σ_groups (scale_w · scale_a) · dot in f32, groups in order.
    /// </summary>
    public static float[] IntegerGroupAccumulate(ReadOnlyMemory<float> x, QuantizedMatrix w, int m, int actBits)
    {
        int n = w.Rows, k = w.Cols, groups = w.Groups;
        var codes = new int[(long)m * k];
        var aScale = new float[m];
        for (int row = 0; row < m; row++)
            aScale[row] = ActivationQuantizer.QuantizeRow(x.Span.Slice(row * k, k), codes.AsSpan(row * k, k), actBits);
        var dots = IntegerGroupDots(codes, w, m);
        var y = new float[(long)m * n];
        Parallel.For(0, n, col =>
        {
            for (int row = 0; row < m; row++)
            {
                float acc = 0f;
                for (int gi = 0; gi < groups; gi++)
                    acc = AccumulateGroup(acc, w.Scale(col, gi), aScale[row], dots[((long)row * n + col) * groups + gi]);
                y[(long)row * n + col] = acc;
            }
        });
        return y;
    }

    /// <summary>
    /// One group's step of <see cref="IntegerGroupAccumulate"/> in binary32, in this order: acc + (scale_w · scale_a) ·
    /// float(dot). The fpga's dequantize-after-group unit does exactly these four operations.
    /// </summary>
    public static float AccumulateGroup(float acc, float weightScale, float activationScale, long dot) =>
        acc + weightScale * activationScale * (float)dot;

    /// <summary>
    /// The integer core of <see cref="IntegerGroupAccumulate"/>, which integer hardware (the fpga's matrix engine)
    /// reproduces bit for bit: for activation codes a [m, K] and each output column and group, Σ a·(code − zero) over
    /// the group's columns, indexed [(row · N + col) · groups + group].
    /// </summary>
    public static long[] IntegerGroupDots(ReadOnlySpan<int> activationCodes, QuantizedMatrix w, int m)
    {
        int n = w.Rows, k = w.Cols, g = w.GroupLength, groups = w.Groups;
        var centered = w.CenteredCodes();
        var a = new double[(long)m * k];
        for (long i = 0; i < a.Length; i++) a[i] = activationCodes[(int)i];
        var dots = new long[(long)m * n * groups];
        Parallel.For(0, n, col =>
        {
            var wrow = centered.AsSpan((int)((long)col * k), k);
            for (int row = 0; row < m; row++)
            {
                var arow = a.AsSpan((int)((long)row * k), k);
                for (int gi = 0; gi < groups; gi++)
                {
                    int start = gi * g, len = Math.Min(g, k - start);
                    // Integer products summed in doubles stay exact (|sum| < 2^53) whatever the order.
                    dots[((long)row * n + col) * groups + gi] = (long)TensorPrimitives.Dot(arow.Slice(start, len), wrow.Slice(start, len));
                }
            }
        });
        return dots;
    }
}
