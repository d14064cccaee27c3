namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// How a core keeps one kv head's int8 cache of one layer in its channel, as two matrices the core's datapath reads
/// like any other (8-bit symmetric codes, stored as code + 128, one f32 scale a row, one group a row):
/// <list type="bullet">
/// <item>the key region: <see cref="Capacity"/> rows of head-dim codes, a row a position, then (16-byte aligned) a
/// scale a position — the scores instruction reads its first `keys` rows;</item>
/// <item>the value region, transposed: head-dim rows of <see cref="Capacity"/> codes, a column a position (the row
/// stride the capacity, a multiple of the widest beat), then a scale of 1 a row, which the memory image writes (the
/// values' own scales go to the softmax instead) — the values instruction reads the first `stride` columns of each
/// row.</item>
/// </list>
/// Appending a position writes a key row and scale and a column of value codes.
/// </summary>
public readonly record struct CoreAttentionLayout(int Capacity, int HeadDim)
{
    private static long Align16(long bytes) => (bytes + 15) & ~15L;

    public long KeyScalesAt => Align16((long)Capacity * HeadDim);
    public long KeyRegionBytes => KeyScalesAt + Capacity * 4L;
    public long ValueScalesAt => Align16((long)HeadDim * Capacity);
    public long ValueRegionBytes => ValueScalesAt + HeadDim * 4L;

    /// <summary>The value region's row scales: head dim times 1.0f.</summary>
    public byte[] ValueRowScales()
    {
        var bytes = new byte[HeadDim * 4];
        for (int d = 0; d < HeadDim; d++) BitConverter.TryWriteBytes(bytes.AsSpan(d * 4), 1f);
        return bytes;
    }
}
