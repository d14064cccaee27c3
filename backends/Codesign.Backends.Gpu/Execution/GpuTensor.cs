using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// A device buffer rented from a <see cref="GpuBufferPool"/>, shared by the tensors that view it (a reshape is a view):
/// it returns to the pool when the last of them dies.
/// </summary>
internal sealed class PooledBuffer(MemoryBuffer1D<float, Stride1D.Dense> buffer, GpuBufferPool pool)
{
    private int _references;

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; } = buffer;

    public void AddReference() => _references++;

    public void Release()
    {
        if (--_references == 0) pool.Return(Buffer);
    }
}

/// <summary>An activation on the device: a shape and a view of f32 (or, for ids and positions, i32) elements.</summary>
internal sealed class GpuTensor
{
    public GpuTensor(int[] shape, PooledBuffer storage, bool ints = false)
    {
        Shape = shape;
        Storage = storage;
        IsInts = ints;
        storage.AddReference();
    }

    public int[] Shape { get; }
    public PooledBuffer Storage { get; }
    public bool IsInts { get; }
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    public ArrayView<float> Floats => ((ArrayView<float>)Storage.Buffer.View).SubView(0, ElementCount);
    public ArrayView<int> Ints => ((ArrayView<float>)Storage.Buffer.View).Cast<int>().SubView(0, ElementCount);

    public GpuTensor Reshaped(int[] shape) => new(shape, Storage, IsInts);
}

/// <summary>
/// Device buffers by power-of-two size class, reused across nodes and forward calls: a decode step allocates nothing
/// after the first. Safe to reuse as soon as a tensor dies because every kernel runs in order on one stream.
/// </summary>
internal sealed class GpuBufferPool(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = [];
    private readonly List<MemoryBuffer1D<float, Stride1D.Dense>> _all = [];

    public long Bytes => _all.Sum(b => b.LengthInBytes);

    public PooledBuffer Rent(long elements)
    {
        long size = 256;
        while (size < elements) size *= 2;
        if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new();
        if (!stack.TryPop(out var buffer))
        {
            buffer = accelerator.Allocate1D<float>(size);
            _all.Add(buffer);
        }
        return new PooledBuffer(buffer, this);
    }

    public void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer) => _free[buffer.Length].Push(buffer);

    public void Dispose()
    {
        foreach (var b in _all) b.Dispose();
        _all.Clear();
        _free.Clear();
    }
}
