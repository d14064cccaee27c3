namespace Codesign.Backends.Fpga.Numerics;

/// <summary>
/// The special-function unit's exponential: binary32 in and out, computed in fixed point. This is the bit-exact
/// specification the RTL (<c>fp32_exp</c>) is tested against.
/// <list type="number">
/// <item>|x| is truncated to fixed point with 40 fraction bits (|x| &lt; 128; beyond, the result is +∞ or 0).</item>
/// <item>t = x · log2(e), with log2(e) in 40 fraction bits, floored to 32 fraction bits: t = n + f, 0 ≤ f &lt; 1.</item>
/// <item>2^f = 2^(i/256) · 2^r: i is f's top 8 bits, looked up in a 256-entry table of 32 fraction bits; for the
/// rest r &lt; 2^−8, 2^r ≈ 1 + a + a²/2 with a = r · ln 2 (the next term is below 2^−28).</item>
/// <item>The 33-bit product is rounded to nearest even into a binary32 of exponent n (subnormal when n &lt; −126).</item>
/// </list>
/// Error: below 0.03 units in the last place before the final rounding, so the result is the correctly rounded
/// e^x or one unit from it (<c>Fp32ExpTests</c> measures it against f64 over the whole range).
/// </summary>
public static class Fp32Exp
{
    public const int TableBits = 8;

    /// <summary>log2(e) with 40 fraction bits.</summary>
    public static readonly long Log2E = (long)Math.Round(Math.Log2(Math.E) * (1L << 40));

    /// <summary>ln(2) with 32 fraction bits.</summary>
    public static readonly long Ln2 = (long)Math.Round(Math.Log(2) * (1L << 32));

    /// <summary>2^(i/256) with 32 fraction bits, i = 0..255 (33-bit values).</summary>
    public static readonly long[] Table = [.. Enumerable.Range(0, 1 << TableBits).Select(i => (long)Math.Round(Math.Pow(2, i / 256.0) * (1L << 32)))];

    public const uint QuietNaN = 0x7FC00000;

    public static float Exp(float x) => BitConverter.UInt32BitsToSingle(Exp(BitConverter.SingleToUInt32Bits(x)));

    public static uint Exp(uint bits)
    {
        bool negative = bits >> 31 != 0;
        int e = (int)(bits >> 23 & 0xff);
        long frac = bits & 0x7fffff;
        if (e == 255) return frac != 0 ? QuietNaN : negative ? 0u : 0x7F800000;
        if (e >= 134) return negative ? 0u : 0x7F800000; // |x| ≥ 128

        long m = e == 0 ? frac : frac | 1L << 23;
        int shift = Math.Max(e, 1) - 110; // value = m · 2^(max(e,1) − 150); fixed point has 40 fraction bits
        long fixedX = shift >= 0 ? m << shift : -shift >= 24 ? 0 : m >> -shift;
        if (negative) fixedX = -fixedX;

        long t = (long)((Int128)fixedX * Log2E >> 48); // floor, 32 fraction bits
        long n = t >> 32;
        long f = t & 0xFFFFFFFFL;
        int i = (int)(f >> 24);
        long r = f & 0xFFFFFF;
        long a = r * Ln2 >> 32;
        long p = (1L << 32) + a + (a * a >> 33);
        long mant = (long)((UInt128)(ulong)Table[i] * (ulong)p >> 32); // in [2^32, 2^34)

        int lead = mant >> 33 != 0 ? 33 : 32;
        long biased = n + (lead - 32) + 127;
        if (biased >= 255) return 0x7F800000;
        int drop = lead - 23 + (biased >= 1 ? 0 : (int)Math.Min(1 - biased, 40));
        if (drop > 40) return 0;
        long q = mant >> drop;
        long rem = mant & ((1L << drop) - 1);
        long half = 1L << (drop - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) q++;
        if (biased < 1) return (uint)q; // subnormal, or the smallest normal when rounding carried into bit 23
        if (q >> 24 != 0)
        {
            q >>= 1;
            biased++;
            if (biased >= 255) return 0x7F800000;
        }
        return (uint)(biased << 23 | (q & 0x7fffff));
    }
}
