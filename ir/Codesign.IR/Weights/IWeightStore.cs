using Codesign.IR.Types;

namespace Codesign.IR.Weights;

/// <summary>A stored tensor: its dtype, shape and raw little-endian bytes (often a view of a memory-mapped file).</summary>
public sealed record WeightTensor(string Key, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => checked(a * d));

    /// <summary>A tensor of f32 values stored as <paramref name="dtype"/> (f32, f16 or bf16, rounded to nearest even).</summary>
    public static WeightTensor FromFloats(string key, DType dtype, long[] shape, ReadOnlySpan<float> values)
    {
        var bytes = new byte[(long)values.Length * dtype.ByteSize];
        Quantization.FloatStorage.Write(bytes, values, dtype);
        return new(key, dtype, shape, bytes);
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
