using System.Diagnostics;
using Codesign.Backends.Gpu.Execution;
using Codesign.Backends.Gpu.Kernels;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using ILGPU;
using ILGPU.Runtime;

/// <summary>
/// GEMV (one token) on the gpu device for LLaMA-7B's matrix shapes at f16, W8, W4 and W2, each as time per call, the
/// effective bandwidth (weight bytes as the kernel reads them, plus x and y, over the time) and its ratio to the
/// device's copy bandwidth measured in the same run. Kernels are timed back to back between synchronisations.
/// </summary>
internal static class GpuGemvBenchmark
{
    /// <param name="quick">Shapes divided by 8 (for ILGPU's CPU accelerator, to check the driver runs).</param>
    public static void Run(string? only, bool quick)
    {
        using var device = GpuBenchDevice.Open();
        int scale = quick ? 8 : 1;
        double copy = CopyBandwidth(device, quick ? 1 << 22 : 1 << 28);
        Console.WriteLine($"device: {device.Description}; copy bandwidth (read + write) {copy:F1} GB/s");
        Console.WriteLine();
        Console.WriteLine("| weights | N x K | bytes read | µs / GEMV (median) | effective GB/s | of copy bandwidth | generic warp-per-row kernel µs |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        var formats = new (string Label, QuantScheme? Scheme)[]
        {
            ("f16", null), ("W8 g128 sym", QuantScheme.Create(8, 128, true, DType.F16)),
            ("W4 g128 asym", QuantScheme.Create(4, 128, false, DType.F16)), ("W2 g64 asym", QuantScheme.Create(2, 64, false, DType.F16)),
        };
        foreach (var (n, k) in new[] { (8192, 8192), (4096, 11008), (11008, 4096) })
            foreach (var (label, scheme) in formats)
            {
                if (only is not null && !label.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
                var (us, bytes, genericUs) = Gemv(device, scheme, n / scale, k / scale);
                double gbs = bytes / (us * 1e-6) / 1e9;
                Console.WriteLine($"| {label} | {n / scale} x {k / scale} | {bytes / 1e6:F1} MB | {us:F1} | {gbs:F1} | {gbs / copy:P0} | {(genericUs is { } g ? $"{g:F1}" : "—")} |");
            }
    }

    /// <summary>Bytes read plus bytes written per second by the copy kernel over <paramref name="floats"/> elements.</summary>
    public static double CopyBandwidth(GpuDevice device, long floats)
    {
        using var a = device.Accelerator.Allocate1D<float>(floats);
        using var b = device.Accelerator.Allocate1D<float>(floats);
        var copy = device.Kernels.Copy;
        var config = new KernelConfig(new Index1D(device.Geometry.StrideGroups(floats)), new Index1D(device.Geometry.GroupSize));
        double us = TimeLaunches(device, () => copy(config, a.View, b.View));
        return 2.0 * floats * sizeof(float) / (us * 1e-6) / 1e9;
    }

    /// <returns>The time of the kernel a model runs, and also of the generic one-warp-per-row GEMV
    /// (<see cref="LinearKernels.Gemv{TW}"/>) on the same weights where a kernel made for the format replaced it.</returns>
    private static (double Us, long Bytes, double? GenericUs) Gemv(GpuDevice device, QuantScheme? scheme, int n, int k)
    {
        var r = new Random(5);
        var dtype = scheme is null ? DType.F16 : DType.Quantized(scheme);
        var store = new LayeredWeightStore();
        if (scheme is null)
        {
            var values = new float[(long)n * k];
            for (long i = 0; i < values.LongLength; i++) values[i] = (float)(r.NextDouble() - 0.5);
            store.Set(WeightTensor.FromFloats("w", DType.F16, [n, k], values));
        }
        else
        {
            store.Set(RandomPacked.Quantized(r, "w", scheme, n, k));
        }
        var b = new GraphBuilder("gemv");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", k));
        var w = b.Weight("w", TensorType.Of(dtype, n, k));
        b.Return(b.Apply(scheme is null ? new MatMulOp() : new QMatMulOp(), "y", x, w));
        using var weights = new GpuWeights(device.Accelerator, store);
        using var xs = device.Accelerator.Allocate1D<float>(k);
        using var ys = device.Accelerator.Allocate1D<float>(n);
        xs.MemSetToZero();
        Action launch;
        Action? generic = null;
        if (scheme is null)
        {
            var rows = ((DenseF16GpuWeight)weights.DenseMatrix(w)).Rows;
            var enqueue = GemvLaunch.DenseF16(device, rows);
            launch = () => enqueue(xs.View, ys.View, 1);
            if (DenseF16Gemv.Takes(k))
            {
                var plain = GemvLaunch.Generic(device, rows, n, k);
                generic = () => plain(xs.View, ys.View, 1);
            }
        }
        else
        {
            var rows = weights.Quantized(w).Rows(false);
            var enqueue = GemvLaunch.Quantized(device, rows);
            launch = () => enqueue(xs.View, ys.View, 1);
            if (WordGemvLaunch.Takes(rows))
            {
                var plain = GemvLaunch.Generic(device, rows, n, k);
                generic = () => plain(xs.View, ys.View, 1);
            }
        }
        return (TimeLaunches(device, launch), weights.Bytes + (long)(k + n) * sizeof(float), generic is null ? null : TimeLaunches(device, generic));
    }

    /// <summary>Median over 7 batches of the per-launch time of a batch of back-to-back launches.</summary>
    public static double TimeLaunches(GpuDevice device, Action launch)
    {
        launch();
        device.Accelerator.Synchronize();
        var clock = Stopwatch.StartNew();
        launch();
        device.Accelerator.Synchronize();
        int batch = (int)Math.Clamp(0.05 / Math.Max(clock.Elapsed.TotalSeconds, 1e-7), 1, 1000);
        var times = new double[7];
        for (int i = 0; i < times.Length; i++)
        {
            clock.Restart();
            for (int j = 0; j < batch; j++) launch();
            device.Accelerator.Synchronize();
            times[i] = clock.Elapsed.TotalMilliseconds * 1e3 / batch;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}

/// <summary>Random codes, scales and zero points written straight into the packed layout (no quantization run).</summary>
internal static class RandomPacked
{
    public static WeightTensor Quantized(Random r, string key, QuantScheme scheme, int rows, int cols)
    {
        var layout = new QuantizedLayout(scheme, rows, cols);
        var bytes = new byte[layout.TotalBytes];
        r.NextBytes(bytes.AsSpan(0, (int)layout.CodesBytes));
        var scales = new float[(long)rows * layout.Groups];
        for (long i = 0; i < scales.LongLength; i++) scales[i] = (float)(r.NextDouble() - 0.5) * 0.02f;
        FloatStorage.Write(bytes.AsSpan((int)layout.ScalesOffset, (int)layout.ScalesBytes), scales, scheme.ScaleType);
        for (long i = 0; i < layout.ZerosBytes; i++) bytes[layout.ZerosOffset + i] = (byte)r.Next(scheme.MaxCode + 1);
        return new WeightTensor(key, DType.Quantized(scheme), [rows, cols], bytes);
    }
}
