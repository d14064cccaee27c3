namespace Codesign.IR.Semantics;

/// <summary>
/// Keys and values of one attention layer for the tokens seen so far, [tokens, kvHeads, headDim] row-major.
/// The attention op appends to it; the caller owns it across prefill and decode steps.
/// </summary>
public sealed class KvLayerCache
{
    private float[] _keys = [];
    private float[] _values = [];

    public int Length { get; private set; }
    public int RowSize { get; private set; }

    public ReadOnlySpan<float> Keys => _keys.AsSpan(0, Length * RowSize);
    public ReadOnlySpan<float> Values => _values.AsSpan(0, Length * RowSize);

    public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokens, int rowSize)
    {
        if (Length > 0 && rowSize != RowSize)
            throw new InvalidOperationException($"KV cache rows are {RowSize} wide, appended rows are {rowSize}");
        RowSize = rowSize;
        int need = (Length + tokens) * rowSize;
        if (need > _keys.Length)
        {
            int capacity = Math.Max(need, Math.Max(_keys.Length * 2, 64 * rowSize));
            Array.Resize(ref _keys, capacity);
            Array.Resize(ref _values, capacity);
        }
        keys.CopyTo(_keys.AsSpan(Length * rowSize));
        values.CopyTo(_values.AsSpan(Length * rowSize));
        Length += tokens;
    }

    /// <summary>Forgets tokens from <paramref name="length"/> on (e.g. to start a new window).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
    }
}

/// <summary>The KV caches of every attention layer of one sequence, keyed by the op's <c>layer</c> attribute.</summary>
public sealed class KvCache
{
    private readonly Dictionary<long, KvLayerCache> _layers = [];

    public KvLayerCache Layer(long layer)
    {
        if (!_layers.TryGetValue(layer, out var cache))
            _layers[layer] = cache = new KvLayerCache();
        return cache;
    }

    public void Clear() => _layers.Clear();

    public void Truncate(int length)
    {
        foreach (var l in _layers.Values) l.Truncate(Math.Min(length, l.Length));
    }
}
