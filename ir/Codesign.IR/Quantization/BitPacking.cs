namespace Codesign.IR.Quantization;

/// <summary>
/// The one bit order every packed format uses: values of <c>bits</c> bits laid end to end, the first
/// value in the least significant bits of the first byte, a value may straddle bytes.
/// </summary>
public static class BitPacking
{
    public static int ByteCount(long values, int bits) => checked((int)((values * bits + 7) / 8));

    public static void Write(Span<byte> dest, long index, int bits, int value)
    {
        long bit = index * bits;
        int v = value & ((1 << bits) - 1);
        int remaining = bits;
        while (remaining > 0)
        {
            int byteIndex = (int)(bit >> 3), offset = (int)(bit & 7);
            int take = Math.Min(8 - offset, remaining);
            int mask = ((1 << take) - 1) << offset;
            dest[byteIndex] = (byte)((dest[byteIndex] & ~mask) | ((v << offset) & mask));
            v >>= take;
            bit += take;
            remaining -= take;
        }
    }

    public static int Read(ReadOnlySpan<byte> src, long index, int bits)
    {
        long bit = index * bits;
        int value = 0, got = 0;
        while (got < bits)
        {
            int byteIndex = (int)(bit >> 3), offset = (int)(bit & 7);
            int take = Math.Min(8 - offset, bits - got);
            value |= ((src[byteIndex] >> offset) & ((1 << take) - 1)) << got;
            bit += take;
            got += take;
        }
        return value;
    }

    public static void Pack(ReadOnlySpan<byte> values, int bits, Span<byte> dest)
    {
        if (bits == 8) { values.CopyTo(dest); return; }
        for (int i = 0; i < values.Length; i++) Write(dest, i, bits, values[i]);
    }

    public static void Unpack(ReadOnlySpan<byte> src, int bits, Span<byte> values)
    {
        if (bits == 8) { src[..values.Length].CopyTo(values); return; }
        for (int i = 0; i < values.Length; i++) values[i] = (byte)Read(src, i, bits);
    }

    /// <summary>Rounds <paramref name="offset"/> up to the 16-byte boundary that starts each section of a packed weight.</summary>
    public static long Align(long offset) => (offset + 15) & ~15L;
}
