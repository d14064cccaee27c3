namespace Codesign.IR.Semantics;

/// <summary>
/// Rotary position embedding in the Hugging Face LLaMA layout ("rotate half"): dim i pairs with
/// i + d/2, angle = position · θ^(−2i/d), computed in f32 as transformers does.
/// </summary>
public static class RopeKernel
{
    /// <summary>θ^(−2i/d) per rotated pair: an f64 power of an f32 exponent, rounded to f32 (backends upload these).</summary>
    public static float[] InverseFrequencies(double theta, int headDim)
    {
        var invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.Length; i++) invFreq[i] = (float)(1.0 / Math.Pow(theta, (float)(2 * i) / headDim));
        return invFreq;
    }

    /// <summary>The cosines and sines of one position's angles (the int position times each f32 frequency).</summary>
    public static void CosSin(int position, ReadOnlySpan<float> invFreq, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < invFreq.Length; i++)
        {
            float angle = position * invFreq[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
    }

    /// <summary>Rotate-half of one head's row: dim i pairs with i + d/2, turned by the position's angles.</summary>
    public static void RotateHead(ReadOnlySpan<float> x, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, Span<float> y)
    {
        int half = x.Length / 2;
        for (int i = 0; i < half; i++)
        {
            float a = x[i], b = x[half + i];
            y[i] = a * cos[i] - b * sin[i];
            y[half + i] = b * cos[i] + a * sin[i];
        }
    }

    public static float[] Apply(ReadOnlySpan<float> x, ReadOnlySpan<int> positions, int tokens, int heads, int headDim, double theta)
    {
        int half = headDim / 2;
        var invFreq = InverseFrequencies(theta, headDim);
        var y = new float[x.Length];
        var cos = new float[half];
        var sin = new float[half];
        for (int s = 0; s < tokens; s++)
        {
            CosSin(positions[s], invFreq, cos, sin);
            for (int h = 0; h < heads; h++)
            {
                int o = (s * heads + h) * headDim;
                RotateHead(x.Slice(o, headDim), cos, sin, y.AsSpan(o, headDim));
            }
        }
        return y;
    }
}
