using Codesign.Backends.Gpu.Kernels;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>A weight uploaded in the form its kernel reads; <see cref="Bytes"/> is what a pass over it moves from memory.</summary>
public abstract class GpuWeight(IReadOnlyList<MemoryBuffer> buffers) : IDisposable
{
    public long Bytes => buffers.Sum(b => b.LengthInBytes);

    public void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
    }
}

/// <summary>f32 values (f32 and bf16 weights, norms, embeddings).</summary>
internal sealed class DenseF32GpuWeight(MemoryBuffer1D<float, ILGPU.Stride1D.Dense> values, int[] shape) : GpuWeight([values])
{
    public int[] Shape { get; } = shape;
    internal ILGPU.ArrayView<float> Values => values.View;
    internal DenseF32Rows Rows => new(values.View, Shape[0], Shape[^1]);
}

/// <summary>f16 matrix weights, kept at 16 bits and widened in registers.</summary>
internal sealed class DenseF16GpuWeight(MemoryBuffer1D<ILGPU.Half, ILGPU.Stride1D.Dense> values, int rows, int cols) : GpuWeight([values])
{
    internal DenseF16Rows Rows => new(values.View, rows, cols);
}

/// <summary>Group-wise quantized codes (the IR's bit packing, rows padded to whole 32-code chunks), f32 scales, zero points.</summary>
internal sealed class QuantizedGpuWeight(MemoryBuffer1D<uint, ILGPU.Stride1D.Dense> codes, MemoryBuffer1D<float, ILGPU.Stride1D.Dense> scales,
    MemoryBuffer1D<byte, ILGPU.Stride1D.Dense>? zeros, QuantizedRows rows) : GpuWeight(zeros is null ? [codes, scales] : [codes, scales, zeros])
{
    internal QuantizedRows Rows(bool accumulateGroups) => rows with { AccumulateGroups = accumulateGroups ? 1 : 0 };
    public int Bits => rows.Bits;
}

/// <summary>N:M sparse: kept values and their in-window columns.</summary>
internal sealed class NOfMGpuWeight(MemoryBuffer1D<float, ILGPU.Stride1D.Dense> values, MemoryBuffer1D<byte, ILGPU.Stride1D.Dense> offsets, NOfMRows rows)
    : GpuWeight([values, offsets])
{
    internal NOfMRows Rows => rows;
}

/// <summary>Block or unstructured sparse: ELLPACK rows.</summary>
internal sealed class EllGpuWeight(MemoryBuffer1D<float, ILGPU.Stride1D.Dense> values, MemoryBuffer1D<int, ILGPU.Stride1D.Dense> columns, EllRows rows)
    : GpuWeight([values, columns])
{
    internal EllRows Rows => rows;
}
