namespace Codesign.IR.Semantics;

/// <summary>
/// Symmetric absmax quantization of activation rows (per token; KV caches use it per token and head):
/// scale = max|x| / (2^(bits−1) − 1) in f32, code = x / scale rounded half to even, clamped to ±(2^(bits−1) − 1).
/// A zero row has scale 0 and codes 0. Backends reproduce this bit for bit.
/// </summary>
public static class ActivationQuantizer
{
    public static int MaxCode(int bits) => bits is >= 2 and <= 8 ? (1 << (bits - 1)) - 1 : throw new ArgumentOutOfRangeException(nameof(bits), bits, "activations quantize to 2..8 bits");

    public static float QuantizeRow(ReadOnlySpan<float> x, Span<int> codes, int bits)
    {
        int qmax = MaxCode(bits);
        float amax = 0f;
        foreach (float v in x) amax = MathF.Max(amax, MathF.Abs(v));
        float scale = amax / qmax;
        for (int i = 0; i < x.Length; i++)
            codes[i] = scale == 0f ? 0 : Math.Clamp((int)MathF.Round(x[i] / scale, MidpointRounding.ToEven), -qmax, qmax);
        return scale;
    }

    /// <summary>Replaces each row of <paramref name="data"/> by its quantized value code · scale (what a quantized cache returns).</summary>
    public static void FakeQuantizeRows(Span<float> data, int rowLength, int bits)
    {
        var codes = new int[rowLength];
        for (int start = 0; start < data.Length; start += rowLength)
        {
            var row = data.Slice(start, rowLength);
            float scale = QuantizeRow(row, codes, bits);
            for (int i = 0; i < rowLength; i++) row[i] = codes[i] * scale;
        }
    }
}
