namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>ggml tensor type ids as GGUF stores them (ggml.h).</summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35,
}

/// <summary>One row of ggml's type table: elements per block and bytes per block.</summary>
public sealed record GgmlTypeInfo(GgmlType Type, int BlockSize, int TypeSize)
{
    private static readonly Dictionary<GgmlType, GgmlTypeInfo> Table = new GgmlTypeInfo[]
    {
        new(GgmlType.F32, 1, 4), new(GgmlType.F16, 1, 2), new(GgmlType.BF16, 1, 2), new(GgmlType.F64, 1, 8),
        new(GgmlType.I8, 1, 1), new(GgmlType.I16, 1, 2), new(GgmlType.I32, 1, 4), new(GgmlType.I64, 1, 8),
        new(GgmlType.Q4_0, 32, 2 + 16), new(GgmlType.Q4_1, 32, 4 + 16), new(GgmlType.Q5_0, 32, 2 + 4 + 16),
        new(GgmlType.Q5_1, 32, 4 + 4 + 16), new(GgmlType.Q8_0, 32, 2 + 32), new(GgmlType.Q8_1, 32, 8 + 32),
        new(GgmlType.Q2_K, 256, 16 + 64 + 4), new(GgmlType.Q3_K, 256, 32 + 64 + 12 + 2), new(GgmlType.Q4_K, 256, 4 + 12 + 128),
        new(GgmlType.Q5_K, 256, 4 + 12 + 32 + 128), new(GgmlType.Q6_K, 256, 128 + 64 + 16 + 2), new(GgmlType.Q8_K, 256, 4 + 256 + 32),
        new(GgmlType.TQ1_0, 256, 48 + 4 + 2), new(GgmlType.TQ2_0, 256, 64 + 2),
    }.ToDictionary(i => i.Type);

    public static bool TryGet(uint id, out GgmlTypeInfo info) => Table.TryGetValue((GgmlType)id, out info!);

    public static GgmlTypeInfo Of(GgmlType type) => Table[type];

    /// <summary>Bytes of a row of <paramref name="elements"/> (a whole number of blocks).</summary>
    public long RowBytes(long elements) => elements / BlockSize * TypeSize;
}
