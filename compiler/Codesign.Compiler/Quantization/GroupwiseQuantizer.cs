using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Compiler.Quantization;

/// <summary>
/// Round-to-nearest group-wise quantization: per group, a scale (and zero point) from the group's
/// values, then code = round(w / scale) + zero clamped to the code range. The rules:
/// <list type="bullet">
/// <item>symmetric b-bit: the value v of largest magnitude maps to code 0, scale = v / −2^(b−1) (as ggml's Q4_0 does, so all 2^b levels are used);</item>
/// <item>asymmetric: the range [min(w, 0), max(w, 0)] spans codes 0..2^b−1, zero = round(−min / scale);</item>
/// <item>ternary (BitNet b1.58 absmean): scale = mean |w|, codes −1, 0, +1.</item>
/// </list>
/// Scales are rounded to the scheme's scale dtype before the codes are chosen. <c>clip</c> &lt; 1 shrinks the range (AWQ's clip search).
/// </summary>
public static class GroupwiseQuantizer
{
    public readonly record struct GroupParameters(float Scale, int Zero);

    public static GroupParameters Choose(ReadOnlySpan<float> values, QuantScheme s, ReadOnlySpan<bool> kept = default, double clip = 1.0)
    {
        bool all = kept.IsEmpty;
        if (s.Ternary)
        {
            double sum = 0;
            int n = 0;
            for (int i = 0; i < values.Length; i++)
                if (all || kept[i]) { sum += Math.Abs(values[i]); n++; }
            return new(FloatStorage.Round(n == 0 ? 0f : (float)(sum / n * clip), s.ScaleType), 1);
        }
        if (s.Symmetric)
        {
            float extreme = 0f;
            for (int i = 0; i < values.Length; i++)
                if ((all || kept[i]) && Math.Abs(values[i]) > Math.Abs(extreme)) extreme = values[i];
            return new(FloatStorage.Round((float)(extreme * clip / -(1 << (s.Bits - 1))), s.ScaleType), s.ImplicitZero);
        }
        float lo = 0f, hi = 0f;
        for (int i = 0; i < values.Length; i++)
            if (all || kept[i]) { lo = Math.Min(lo, values[i]); hi = Math.Max(hi, values[i]); }
        float scale = FloatStorage.Round((float)((hi - lo) * clip / s.MaxCode), s.ScaleType);
        int zero = scale == 0f ? 0 : Math.Clamp((int)Math.Round(-lo * clip / scale), 0, s.MaxCode);
        return new(scale, zero);
    }

    public static int Code(float w, GroupParameters p, QuantScheme s) =>
        p.Scale == 0f ? p.Zero : Math.Clamp((int)MathF.Round(w / p.Scale) + p.Zero, 0, s.MaxCode);

    public static float Dequantize(int code, GroupParameters p) => p.Scale * (code - p.Zero);

    /// <summary>
    /// Quantizes w [rows, cols]; weights where <paramref name="kept"/> is false get the zero code.
    /// <paramref name="clips"/> [rows, groups] shrinks each group's range (1 = none).
    /// </summary>
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> w, int rows, int cols, QuantScheme s, bool[]? kept = null, double[]? clips = null)
    {
        var source = w.ToArray();
        int groups = s.GroupCount(cols), g = s.GroupLength(cols);
        var codes = new byte[(long)rows * cols];
        var scales = new float[(long)rows * groups];
        var zeros = s.Symmetric ? null : new byte[scales.Length];
        Parallel.For(0, rows, r =>
        {
            for (int gi = 0; gi < groups; gi++)
            {
                int start = gi * g, len = Math.Min(g, cols - start);
                long offset = (long)r * cols + start;
                var values = source.AsSpan((int)offset, len);
                var mask = kept is null ? default : kept.AsSpan((int)offset, len);
                var p = Choose(values, s, mask, clips?[r * groups + gi] ?? 1.0);
                Store(p, r * groups + gi, scales, zeros);
                for (int c = 0; c < len; c++)
                    codes[offset + c] = (byte)(kept is null || mask[c] ? Code(values[c], p, s) : p.Zero);
            }
        });
        return new QuantizedMatrix(s, rows, cols, codes, scales, zeros);
    }

    internal static void Store(GroupParameters p, long index, float[] scales, byte[]? zeros)
    {
        scales[index] = p.Scale;
        if (zeros is not null) zeros[index] = (byte)p.Zero;
    }
}
