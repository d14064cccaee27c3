using Codesign.Backends.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// The decode GEMV a weight gets, prepared once (kernels are loaded at the first launch): for group-wise codes <see cref="WordCodeGemv"/> (through
/// <see cref="WordGemvLaunch"/>) where its codes and groups are whole words, for f16 <see cref="DenseF16Gemv"/> where its
/// rows are whole 16-byte chunks, else the generic one-warp-per-row <see cref="LinearKernels.Gemv{TW}"/>. The lowering
/// and the GEMV benchmark both launch through here, so the benchmark times what a model runs.
/// </summary>
internal static class GemvLaunch
{
    /// <summary>An enqueue of y[t, :] = w · x[t, :] for t &lt; m: (x, y, m).</summary>
    public delegate void Enqueue(ArrayView<float> x, ArrayView<float> y, int m);

    /// <summary>
    /// The launch for quantized codes that the word kernel does not take (the word kernel's own launches, with their
    /// fusions and siblings, are <see cref="WordGemvLaunch"/>); or, for the benchmark, any quantized weight alone.
    /// </summary>
    public static Enqueue Quantized(GpuDevice device, QuantizedRows rows)
    {
        if (WordGemvLaunch.Takes(rows))
        {
            var word = WordGemvLaunch.Siblings(device, [rows]);
            return (x, y, m) => word.Enqueue(x, m, default, y);
        }
        return Generic(device, rows, rows.N, rows.K);
    }

    /// <summary>The launch for f16 weights.</summary>
    public static Enqueue DenseF16(GpuDevice device, DenseF16Rows rows)
    {
        if (!DenseF16Gemv.Takes(rows.K)) return Generic(device, rows, rows.N, rows.K);
        var geometry = device.Geometry;
        int threads = RowGroupReduction.Threads(rows.K / DenseF16Gemv.HalvesPerChunk, geometry.WarpSize, geometry.GroupSize);
        var chunked = GpuRunState.Groups((rows.N + RowGroupReduction.Rows - 1) / RowGroupReduction.Rows, threads);
        Action<KernelConfig, ArrayView<float>, ArrayView<float>, DenseF16Rows, int>? kernel = null;
        return (x, y, m) => (kernel ??= device.Kernels.DenseF16Gemv)(chunked, x, y, rows, m);
    }

    /// <summary>The generic one-warp-per-row GEMV over any weight format of <paramref name="n"/> × <paramref name="k"/>.</summary>
    public static Enqueue Generic<TW>(GpuDevice device, TW rows, int n, int k) where TW : struct, IWeightRows
    {
        var config = GpuRunState.Groups(device.Geometry.WarpRowGroups(n), device.Geometry.GroupSize);
        Action<KernelConfig, ArrayView<float>, ArrayView<float>, TW, int, int, int>? kernel = null;
        return (x, y, m) => (kernel ??= device.Kernels.Gemv<TW>())(config, x, y, rows, m, n, k);
    }
}
