namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// The keys and values of every attention layer of one sequence, [positions, kvHeads · headDim] f32 in pinned
/// arrays the attention kernel reads by pointer. Grows by doubling; the caller owns it across forward calls.
/// </summary>
public sealed class CpuKvCache
{
    private readonly Dictionary<long, Layer> _layers = [];

    public sealed class Layer
    {
        public float[] Keys { get; private set; } = [];
        public float[] Values { get; private set; } = [];
        public int Length { get; private set; }
        public int RowSize { get; private set; }

        public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokens, int rowSize)
        {
            if (Length > 0 && rowSize != RowSize)
                throw new InvalidOperationException($"KV cache rows are {RowSize} wide, appended rows are {rowSize}");
            RowSize = rowSize;
            long need = (long)(Length + tokens) * rowSize;
            if (need > Keys.Length)
            {
                int capacity = checked((int)Math.Max(need, Math.Max(2L * Keys.Length, 64L * rowSize)));
                Keys = Grow(Keys, capacity, Length * rowSize);
                Values = Grow(Values, capacity, Length * rowSize);
            }
            keys.CopyTo(Keys.AsSpan(Length * rowSize));
            values.CopyTo(Values.AsSpan(Length * rowSize));
            Length += tokens;
        }

        private static float[] Grow(float[] old, int capacity, int used)
        {
            var grown = GC.AllocateUninitializedArray<float>(capacity, pinned: true);
            old.AsSpan(0, used).CopyTo(grown);
            return grown;
        }

        internal void Truncate(int length) => Length = Math.Min(Length, length);
    }

    public Layer For(long layer)
    {
        if (!_layers.TryGetValue(layer, out var l)) _layers[layer] = l = new Layer();
        return l;
    }

    public void Clear() => _layers.Clear();

    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        foreach (var l in _layers.Values) l.Truncate(length);
    }
}
