using Codesign.IR.Diagnostics;

namespace Codesign.IR.Semantics;

/// <summary>
/// Keys and values of one attention layer for the tokens seen so far, [tokens, kvHeads, headDim] per row. The
/// attention op appends the step's raw rows (quantized here when the op has kv_bits) and reads every cached row back
/// as f32. Rows live in one growing array, or in blocks of a shared <see cref="KvBlockPool"/>.
/// </summary>
public sealed class KvLayerCache
{
    private readonly KvBlockPool? _pool;
    private readonly string _holder;
    private readonly List<KvBlock> _blocks = [];
    private float[] _keys = [];
    private float[] _values = [];
    // A quantized cache that is not paged also keeps each row's codes and each head's scale: int8 attention reads them.
    private sbyte[] _keyCodes = [], _valueCodes = [];
    private float[] _keyScales = [], _valueScales = [];

    internal KvLayerCache(KvBlockPool? pool, string holder)
    {
        _pool = pool;
        _holder = holder;
    }

    public int Length { get; private set; }
    public int RowSize { get; private set; }

    /// <summary>Blocks held from the pool (0 when the cache is not paged).</summary>
    public int BlockCount => _blocks.Count;

    /// <summary>
    /// Appends <paramref name="tokens"/> rows of keys and values. With <paramref name="kvBits"/> 8 or 4 each head's row
    /// (<paramref name="headDim"/> values) is quantized by <see cref="ActivationQuantizer"/>, and reading gives code · scale.
    /// </summary>
    public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokens, int rowSize, int headDim, int kvBits)
    {
        if (Length > 0 && rowSize != RowSize)
            throw new InvalidOperationException($"KV cache rows are {RowSize} wide, appended rows are {rowSize}");
        if (_pool is not null && _pool.KvBits != 0 && _pool.KvBits != kvBits)
            throw new CodesignException($"{_holder}: the KV pool stores {_pool.KvBits}-bit rows but the attention op caches {(kvBits == 0 ? "f32" : $"{kvBits}-bit")} rows; give the pool the graph's kv_bits (or 0)");
        RowSize = rowSize;
        HeadDim = headDim;
        Bits = kvBits;
        if (_pool is null)
        {
            int need = (Length + tokens) * rowSize;
            if (need > _keys.Length)
            {
                int capacity = Math.Max(need, Math.Max(_keys.Length * 2, 64 * rowSize));
                Array.Resize(ref _keys, capacity);
                Array.Resize(ref _values, capacity);
                if (kvBits != 0)
                {
                    Array.Resize(ref _keyCodes, capacity);
                    Array.Resize(ref _valueCodes, capacity);
                    Array.Resize(ref _keyScales, capacity / headDim);
                    Array.Resize(ref _valueScales, capacity / headDim);
                }
            }
            int at = Length * rowSize, count = tokens * rowSize;
            if (kvBits == 0)
            {
                keys.CopyTo(_keys.AsSpan(at));
                values.CopyTo(_values.AsSpan(at));
            }
            else
            {
                Quantize(keys, _keyCodes, _keyScales, _keys, at, count, headDim, kvBits);
                Quantize(values, _valueCodes, _valueScales, _values, at, count, headDim, kvBits);
            }
            Length += tokens;
            return;
        }
        // Rows as the cache gives them back; a pool storing codes quantizes the raw rows itself.
        ReadOnlySpan<float> k = keys, v = values;
        if (kvBits != 0 && _pool.KvBits == 0)
        {
            var kq = keys.ToArray();
            var vq = values.ToArray();
            ActivationQuantizer.FakeQuantizeRows(kq, headDim, kvBits);
            ActivationQuantizer.FakeQuantizeRows(vq, headDim, kvBits);
            k = kq;
            v = vq;
        }
        for (int t = 0; t < tokens; t++)
        {
            int slot = Length % _pool.BlockTokens;
            if (slot == 0) _blocks.Add(_pool.Rent(rowSize, headDim, $"{_holder} at token {Length}"));
            _blocks[^1].Write(slot, k.Slice(t * rowSize, rowSize), v.Slice(t * rowSize, rowSize));
            Length++;
        }
    }

    /// <summary>
    /// Quantizes <paramref name="count"/> elements of head rows once: their codes and each head row's scale, and the f32
    /// rows the cache gives back, code · scale (<see cref="ActivationQuantizer.FakeQuantizeRows"/>'s values).
    /// </summary>
    private static void Quantize(ReadOnlySpan<float> rows, sbyte[] codes, float[] scales, float[] dequantized, int at, int count, int headDim, int bits)
    {
        Span<int> headCodes = stackalloc int[headDim];
        for (int r = 0; r < count; r += headDim)
        {
            float scale = ActivationQuantizer.QuantizeRow(rows.Slice(r, headDim), headCodes, bits);
            scales[(at + r) / headDim] = scale;
            for (int i = 0; i < headDim; i++)
            {
                codes[at + r + i] = (sbyte)headCodes[i];
                dequantized[at + r + i] = headCodes[i] * scale;
            }
        }
    }

    /// <summary>Elements of a head's row, and the bits of a quantized cache's codes (0: f32).</summary>
    public int HeadDim { get; private set; }
    public int Bits { get; private set; }

    /// <summary>
    /// A quantized cache's rows as they are stored: every key and value code (signed, [tokens, kvHeads, headDim]) and
    /// every head row's scale ([tokens, kvHeads]), so code · scale is what <see cref="Rows"/> gives.
    /// </summary>
    public (sbyte[] KeyCodes, float[] KeyScales, sbyte[] ValueCodes, float[] ValueScales) QuantizedRows()
    {
        if (Bits == 0) throw new InvalidOperationException("the KV cache holds f32 rows, not codes");
        int n = Length * RowSize, heads = RowSize / HeadDim;
        if (_pool is null)
            return (_keyCodes[..n], _keyScales[..(Length * heads)], _valueCodes[..n], _valueScales[..(Length * heads)]);
        var result = (new sbyte[n], new float[Length * heads], new sbyte[n], new float[Length * heads]);
        for (int j = 0; j < Length; j++)
            _blocks[j / _pool.BlockTokens].ReadCodes(j % _pool.BlockTokens, result.Item1.AsSpan(j * RowSize, RowSize), result.Item2.AsSpan(j * heads, heads),
                result.Item3.AsSpan(j * RowSize, RowSize), result.Item4.AsSpan(j * heads, heads));
        return result;
    }

    /// <summary>
    /// Every cached row, contiguous f32: the storage itself, or (paged) gathered into <paramref name="scratch"/>, which
    /// is grown as needed and reused by the caller across layers, so a step holds one layer's rows in f32 at a time.
    /// </summary>
    public (ReadOnlyMemory<float> Keys, ReadOnlyMemory<float> Values) Rows(ref float[] scratch)
    {
        int n = Length * RowSize;
        if (_pool is null) return (_keys.AsMemory(0, n), _values.AsMemory(0, n));
        if (scratch.Length < 2 * n) scratch = new float[Math.Max(2 * n, scratch.Length * 2)];
        for (int j = 0; j < Length; j++)
            _blocks[j / _pool.BlockTokens].Read(j % _pool.BlockTokens, scratch.AsSpan(j * RowSize, RowSize), scratch.AsSpan(n + j * RowSize, RowSize));
        return (scratch.AsMemory(0, n), scratch.AsMemory(n, n));
    }

    /// <summary>Forgets every row and gives the blocks back to the pool.</summary>
    public void Clear()
    {
        foreach (var b in _blocks) _pool!.Return(b);
        _blocks.Clear();
        Length = 0;
    }
}

/// <summary>
/// The KV caches of every attention layer of one sequence, keyed by the op's <c>layer</c> attribute; paged when given
/// a pool (<see cref="Clear"/> then gives its blocks back).
/// </summary>
public sealed class KvCache(KvBlockPool? pool = null, string name = "sequence")
{
    private readonly Dictionary<long, KvLayerCache> _layers = [];
    private float[] _scratch = [];

    public KvBlockPool? Pool => pool;

    public KvLayerCache Layer(long layer)
    {
        if (!_layers.TryGetValue(layer, out var cache))
            _layers[layer] = cache = new KvLayerCache(pool, $"{name}, layer {layer}");
        return cache;
    }

    /// <summary>Rows of <paramref name="layer"/> as contiguous f32 (see <see cref="KvLayerCache.Rows"/>), through this sequence's scratch.</summary>
    public (ReadOnlyMemory<float> Keys, ReadOnlyMemory<float> Values) Rows(KvLayerCache layer) => layer.Rows(ref _scratch);

    /// <summary>Blocks held from the pool over all layers.</summary>
    public int BlockCount => _layers.Values.Sum(l => l.BlockCount);

    public void Clear()
    {
        foreach (var l in _layers.Values) l.Clear();
        _layers.Clear();
    }
}
