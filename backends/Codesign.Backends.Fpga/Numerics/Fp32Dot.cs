namespace Codesign.Backends.Fpga.Numerics;

/// <summary>
/// The matrix engine's binary32 dot product (attention and f32 weights), in the order its hardware adds: each beat
/// multiplies <see cref="Lanes"/> pairs (a short last beat pads with +0), sums the products by a pairwise tree
/// (lane 2j + lane 2j+1, then pairs of those, ...), and adds the beat's sum to the running sum, starting from the
/// first beat's. Every product and sum is one IEEE rounding, so the RTL's fp32_mul/fp32_add give the same bits.
/// </summary>
public static class Fp32Dot
{
    public const int Lanes = 16;

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"dot of {a.Length} and {b.Length} elements");
        Span<float> tree = stackalloc float[Lanes];
        float sum = 0f;
        for (int start = 0; start < a.Length; start += Lanes)
        {
            for (int lane = 0; lane < Lanes; lane++)
                tree[lane] = start + lane < a.Length ? a[start + lane] * b[start + lane] : 0f;
            for (int width = Lanes / 2; width >= 1; width /= 2)
                for (int j = 0; j < width; j++)
                    tree[j] = tree[2 * j] + tree[2 * j + 1];
            sum = start == 0 ? tree[0] : sum + tree[0];
        }
        return sum;
    }

    /// <summary>Σ a[j] · b[j · stride] (a column of a row-major tile).</summary>
    public static float DotStrided(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int stride)
    {
        var column = new float[a.Length];
        for (int j = 0; j < a.Length; j++) column[j] = b[j * stride];
        return Dot(a, column);
    }
}
