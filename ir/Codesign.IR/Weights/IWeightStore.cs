using Codesign.IR.Types;

namespace Codesign.IR.Weights;

/// <summary>A stored tensor: its dtype, shape and raw little-endian bytes (often a view of a memory-mapped file).</summary>
public sealed record WeightTensor(string Key, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => checked(a * d));

    public static WeightTensor F32(string key, long[] shape, float[] values) =>
        new(key, DType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static WeightTensor F16(string key, long[] shape, ReadOnlySpan<float> values)
    {
        var halves = new Half[values.Length];
        for (int i = 0; i < halves.Length; i++) halves[i] = (Half)values[i];
        return new(key, DType.F16, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()).ToArray());
    }

    public static WeightTensor BF16(string key, long[] shape, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), FloatConversion.SingleToBFloat16(values[i]));
        return new(key, DType.BF16, shape, bytes);
    }
}

/// <summary>Where weight values live. The IR refers to entries by key; it never opens files itself.</summary>
public interface IWeightStore
{
    IEnumerable<string> Keys { get; }
    bool Contains(string key);
    /// <summary>The tensor stored under <paramref name="key"/>; throws naming the key when absent.</summary>
    WeightTensor Get(string key);
}
