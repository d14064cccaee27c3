using Codesign.IR.Types;

namespace Codesign.IR.Weights;

/// <summary>A stored tensor: its dtype, shape and raw little-endian bytes (often a view of a memory-mapped file).</summary>
public sealed record WeightTensor(string Key, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => checked(a * d));
}

/// <summary>Where weight values live. The IR refers to entries by key; it never opens files itself.</summary>
public interface IWeightStore
{
    IEnumerable<string> Keys { get; }
    bool Contains(string key);
    /// <summary>The tensor stored under <paramref name="key"/>; throws naming the key when absent.</summary>
    WeightTensor Get(string key);
}
