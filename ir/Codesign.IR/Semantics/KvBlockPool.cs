using Codesign.IR.Diagnostics;

namespace Codesign.IR.Semantics;

/// <summary>A KV cache cannot grow: the pool's blocks are all held. The message names the limit and who holds what.</summary>
public sealed class KvCacheExhaustedException(string message) : CodesignException(message);

/// <summary>
/// Paged KV memory shared by many sequences (vLLM's block tables): a fixed number of blocks, each holding
/// <see cref="BlockTokens"/> rows of one attention layer's keys and values. A sequence's layer cache takes a block
/// when its last one is full and gives all of them back when the sequence is cleared, so memory is bounded by the
/// pool, not by the longest context, and no sequence holds more than one partly filled block per layer.
/// With <see cref="KvBits"/> 8 or 4 a block stores each head's row as codes (a byte or half a byte each) and one f32
/// scale, the <see cref="ActivationQuantizer"/> format the attention op's kv_bits defines.
/// </summary>
public sealed class KvBlockPool
{
    private readonly Stack<int> _free = new();
    private readonly KvBlock?[] _blocks;

    public KvBlockPool(int blocks, int blockTokens, int kvBits = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockTokens, 1);
        if (kvBits is not (0 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(kvBits), kvBits, "kv bits are 0 (f32), 8 or 4");
        Blocks = blocks;
        BlockTokens = blockTokens;
        KvBits = kvBits;
        _blocks = new KvBlock?[blocks];
        for (int i = blocks - 1; i >= 0; i--) _free.Push(i);
    }

    public int Blocks { get; }
    public int BlockTokens { get; }
    public int KvBits { get; }

    public int FreeBlocks
    {
        get { lock (_free) return _free.Count; }
    }

    public int UsedBlocks => Blocks - FreeBlocks;

    /// <summary>Blocks a sequence of <paramref name="tokens"/> tokens needs over <paramref name="layers"/> attention layers.</summary>
    public int BlocksFor(int tokens, int layers) => checked((tokens + BlockTokens - 1) / BlockTokens * layers);

    /// <summary>Stored bytes of one block for rows of <paramref name="rowSize"/> floats in heads of <paramref name="headDim"/>.</summary>
    public long BlockBytes(int rowSize, int headDim) => 2L * BlockTokens * (KvBits == 0 ? rowSize * 4L : (rowSize * KvBits + 7) / 8 + rowSize / headDim * 4L);

    internal KvBlock Rent(int rowSize, int headDim, string holder)
    {
        int id;
        lock (_free)
        {
            if (!_free.TryPop(out id))
                throw new KvCacheExhaustedException($"KV cache full: {holder} needs another block, and all {Blocks} blocks of {BlockTokens} tokens are held ({Blocks * BlockTokens} token rows per layer in all); give the pool more blocks or run fewer or shorter sequences at once");
        }
        var block = _blocks[id];
        if (block is null || block.RowSize != rowSize || block.HeadDim != headDim)
            _blocks[id] = block = new KvBlock(id, BlockTokens, rowSize, headDim, KvBits);
        return block;
    }

    internal void Return(KvBlock block)
    {
        lock (_free) _free.Push(block.Id);
    }
}

/// <summary>One block of <see cref="KvBlockPool"/>: keys and values of up to BlockTokens positions of one layer.</summary>
internal sealed class KvBlock
{
    private readonly float[]? _keys, _values;
    private readonly byte[]? _keyCodes, _valueCodes;
    private readonly float[]? _keyScales, _valueScales;
    private readonly int _bits;

    public KvBlock(int id, int tokens, int rowSize, int headDim, int bits)
    {
        Id = id;
        RowSize = rowSize;
        HeadDim = headDim;
        _bits = bits;
        if (bits == 0)
        {
            _keys = new float[tokens * rowSize];
            _values = new float[tokens * rowSize];
        }
        else
        {
            int rowBytes = (rowSize * bits + 7) / 8;
            _keyCodes = new byte[tokens * rowBytes];
            _valueCodes = new byte[tokens * rowBytes];
            _keyScales = new float[tokens * (rowSize / headDim)];
            _valueScales = new float[tokens * (rowSize / headDim)];
        }
    }

    public int Id { get; }
    public int RowSize { get; }
    public int HeadDim { get; }

    public void Write(int slot, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        if (_bits == 0)
        {
            key.CopyTo(_keys.AsSpan(slot * RowSize));
            value.CopyTo(_values.AsSpan(slot * RowSize));
            return;
        }
        Quantize(key, _keyCodes!, _keyScales!, slot);
        Quantize(value, _valueCodes!, _valueScales!, slot);
    }

    public void Read(int slot, Span<float> key, Span<float> value)
    {
        if (_bits == 0)
        {
            _keys.AsSpan(slot * RowSize, RowSize).CopyTo(key);
            _values.AsSpan(slot * RowSize, RowSize).CopyTo(value);
            return;
        }
        Dequantize(_keyCodes!, _keyScales!, slot, key);
        Dequantize(_valueCodes!, _valueScales!, slot, value);
    }

    private void Quantize(ReadOnlySpan<float> row, byte[] codes, float[] scales, int slot)
    {
        int heads = RowSize / HeadDim, rowBytes = (RowSize * _bits + 7) / 8;
        Span<int> headCodes = stackalloc int[HeadDim];
        var dst = codes.AsSpan(slot * rowBytes, rowBytes);
        dst.Clear();
        for (int h = 0; h < heads; h++)
        {
            scales[slot * heads + h] = ActivationQuantizer.QuantizeRow(row.Slice(h * HeadDim, HeadDim), headCodes, _bits);
            for (int i = 0; i < HeadDim; i++)
            {
                int e = h * HeadDim + i;
                if (_bits == 8) dst[e] = (byte)(sbyte)headCodes[i];
                else dst[e >> 1] |= (byte)((headCodes[i] + 8) << ((e & 1) * 4));
            }
        }
    }

    /// <summary>The slot's key and value codes (one per element, signed) and their scales (one per kv head).</summary>
    public void ReadCodes(int slot, Span<sbyte> keyCodes, Span<float> keyScales, Span<sbyte> valueCodes, Span<float> valueScales)
    {
        if (_bits == 0) throw new InvalidOperationException("an f32 KV block holds no codes");
        Codes(_keyCodes!, _keyScales!, slot, keyCodes, keyScales);
        Codes(_valueCodes!, _valueScales!, slot, valueCodes, valueScales);
    }

    private void Codes(byte[] codes, float[] scales, int slot, Span<sbyte> dst, Span<float> dstScales)
    {
        int heads = RowSize / HeadDim, rowBytes = (RowSize * _bits + 7) / 8;
        var src = codes.AsSpan(slot * rowBytes, rowBytes);
        for (int e = 0; e < RowSize; e++) dst[e] = (sbyte)(_bits == 8 ? (sbyte)src[e] : ((src[e >> 1] >> ((e & 1) * 4)) & 0xF) - 8);
        scales.AsSpan(slot * heads, heads).CopyTo(dstScales);
    }

    private void Dequantize(byte[] codes, float[] scales, int slot, Span<float> row)
    {
        int heads = RowSize / HeadDim, rowBytes = (RowSize * _bits + 7) / 8;
        var src = codes.AsSpan(slot * rowBytes, rowBytes);
        for (int h = 0; h < heads; h++)
        {
            float scale = scales[slot * heads + h];
            for (int i = 0; i < HeadDim; i++)
            {
                int e = h * HeadDim + i;
                int code = _bits == 8 ? (sbyte)src[e] : ((src[e >> 1] >> ((e & 1) * 4)) & 0xF) - 8;
                row[e] = code * scale; // what ActivationQuantizer.FakeQuantizeRows gives, bit for bit
            }
        }
    }
}
