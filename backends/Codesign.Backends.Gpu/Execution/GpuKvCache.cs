using Codesign.IR.Diagnostics;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// One sequence's keys and values on the device, per attention layer [capacity, kvHeads, headDim] (keys and values
/// apart). Capacity is the model's context (so decode never reallocates); a graph without one grows by doubling.
/// </summary>
public sealed class GpuKvCache(Accelerator accelerator, int capacity) : IDisposable
{
    internal sealed class Layer(MemoryBuffer1D<float, Stride1D.Dense> keys, MemoryBuffer1D<float, Stride1D.Dense> values, int rowSize, int capacity)
    {
        public MemoryBuffer1D<float, Stride1D.Dense> Keys = keys, Values = values;
        public int RowSize { get; } = rowSize;
        public int Capacity = capacity;
        public int Length;
    }

    private readonly Dictionary<long, Layer> _layers = [];

    public long Bytes => _layers.Values.Sum(l => l.Keys.LengthInBytes + l.Values.LengthInBytes);

    /// <summary>Tokens cached in <paramref name="layer"/>.</summary>
    public int Length(long layer) => _layers.TryGetValue(layer, out var l) ? l.Length : 0;

    /// <summary>The layer's buffers with room for <paramref name="tokens"/> more rows.</summary>
    internal Layer Reserve(long layer, int rowSize, int tokens)
    {
        if (!_layers.TryGetValue(layer, out var l))
        {
            int initial = Math.Max(capacity, tokens);
            _layers[layer] = l = new Layer(accelerator.Allocate1D<float>((long)initial * rowSize), accelerator.Allocate1D<float>((long)initial * rowSize), rowSize, initial);
        }
        if (l.RowSize != rowSize)
            throw new CodesignException($"gpu KV cache layer {layer}: rows are {l.RowSize} wide, appended rows are {rowSize}");
        if (l.Length + tokens > l.Capacity)
        {
            int grown = Math.Max(l.Length + tokens, l.Capacity * 2);
            var keys = accelerator.Allocate1D<float>((long)grown * rowSize);
            var values = accelerator.Allocate1D<float>((long)grown * rowSize);
            long used = (long)l.Length * rowSize;
            l.Keys.View.SubView(0, used).CopyTo(keys.View.SubView(0, used));
            l.Values.View.SubView(0, used).CopyTo(values.View.SubView(0, used));
            l.Keys.Dispose();
            l.Values.Dispose();
            (l.Keys, l.Values, l.Capacity) = (keys, values, grown);
        }
        return l;
    }

    /// <summary>Forgets every token (buffers are kept for the next sequence).</summary>
    public void Clear()
    {
        foreach (var l in _layers.Values) l.Length = 0;
    }

    public void Dispose()
    {
        foreach (var l in _layers.Values)
        {
            l.Keys.Dispose();
            l.Values.Dispose();
        }
        _layers.Clear();
    }
}
