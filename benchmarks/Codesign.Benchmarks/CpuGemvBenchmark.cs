using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

/// <summary>
/// The cpu backend's GEMV kernels on LLaMA-7B shapes with random weights, against this machine's memory read
/// bandwidth measured in the same run at the same thread count. Weights are cycled through copies totalling
/// over 8x the L3 cache, so every GEMV streams from DRAM as decode does.
/// </summary>
internal static unsafe class CpuGemvBenchmark
{
    private const long StreamBytes = 320L << 20;

    private sealed record Format(string Name, QuantScheme? Scheme, bool Lut = false, bool Sparse = false, bool HalfSparse = false, int ActBits = 0);

    /// <param name="only">Run only the formats whose name contains this (e.g. "f32", "LUT"); null: all.</param>
    public static void Run(string? only = null)
    {
        var formats = new[]
        {
            new Format("f32", null),
            new Format("W8 g32 sym", QuantScheme.Create(8, 32, true, DType.F16)),
            new Format("W4 g32 sym (Q4_0)", QuantScheme.Create(4, 32, true, DType.F16)),
            new Format("W4 g128 asym", QuantScheme.Create(4, 128, false, DType.F16)),
            new Format("W2 g32 asym", QuantScheme.Create(2, 32, false, DType.F16)),
            new Format("W4 g32 sym LUT", QuantScheme.Create(4, 32, true, DType.F16), Lut: true),
            new Format("W4 g128 asym LUT", QuantScheme.Create(4, 128, false, DType.F16), Lut: true),
            new Format("W2 g32 asym LUT", QuantScheme.Create(2, 32, false, DType.F16), Lut: true),
            new Format("W2 g128 sym LUT", QuantScheme.Create(2, 128, true, DType.F16), Lut: true),
            new Format("W8 per-channel A8 (integer)", QuantScheme.Create(8, 0, true, DType.F32), ActBits: 8),
            new Format("W4 g128 asym A8 (integer)", QuantScheme.Create(4, 128, false, DType.F16), ActBits: 8),
            new Format("f32 2:4 sparse (gather)", null, Sparse: true),
            new Format("f32 2:4 sparse (permute)", null, HalfSparse: true),
        };
        formats = formats.Where(f => only is null || f.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        var shapes = new[] { (4096, 4096), (11008, 4096), (4096, 11008) };
        int maxThreads = Math.Min(2, Environment.ProcessorCount);
        var bandwidth = Enumerable.Range(1, maxThreads).ToDictionary(t => t, ReadBandwidth);
        Console.WriteLine($"memory read bandwidth (sum over {StreamBytes >> 20} MiB, median of 7): " +
            string.Join(", ", bandwidth.Select(kv => $"{kv.Key} thread(s) {kv.Value:F1} GB/s")));
        using var target = new Codesign.Backends.Cpu.Llvm.HostTarget();
        Console.WriteLine($"LLVM target: {target.CpuName}, {target.FloatLanes} f32 lanes");
        Console.WriteLine();
        Console.WriteLine("| weights | N x K | threads | ms / GEMV (median) | weight bytes | effective GB/s | of read bandwidth |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var format in formats)
        foreach (var (n, k) in shapes)
        {
            var (spec, copies, bytes) = format.Lut ? BuildLut(format.Scheme!, n, k) : format.Sparse ? BuildSparse(n, k) : format.HalfSparse ? BuildHalfSparse(n, k) : Build(format, n, k);
            var lut = format.Lut ? LutGeometry.For(format.Scheme!, k) : null;
            if (format.ActBits != 0) spec = IntegerLinearSpec.For(format.Scheme!, k, format.ActBits);
            IKernelSpec[] specs = lut is not null ? [new LutTableSpec(lut), spec] : format.ActBits != 0 ? [new ActivationQuantizeSpec(k, format.ActBits), spec] : [spec];
            nint activationCodes = format.ActBits == 0 ? 0 : Pinned(new sbyte[k]), activationScale = format.ActBits == 0 ? 0 : Pinned(new float[1]);
            using var library = new JitKernelLibrary(specs);
            nint xp = Pinned(RandomFloats(new Random(7), k)), yp = Pinned(new float[n]);
            nint tables = lut is null ? 0 : Pinned(new sbyte[lut.TableBytesPerToken]), ts = lut is null ? 0 : Pinned(new float[lut.Groups]), sums = lut is null ? 0 : Pinned(new float[lut.Groups]);
            {
                foreach (int threads in Enumerable.Range(1, maxThreads))
                {
                    using var launcher = new KernelLauncher(threads);
                    nint kernel = library.Address(spec.Name);
                    nint tableKernel = specs.Length > 1 ? library.Address(specs[0].Name) : 0;
                    int next = 0;
                    void Once()
                    {
                        var c = copies[next++ % copies.Length];
                        if (lut is not null)
                        {
                            // Table precompute is part of every LUT GEMV's time.
                            launcher.Launch(tableKernel, [xp, tables, ts, sums], lut.Groups, lut.GroupLength);
                            launcher.Launch(kernel, [tables, ts, sums, c.Codes, c.Scales, c.Zeros, yp, 1, n], LutGeometry.RowBlocks(n), (long)k * LutGeometry.RowsPerBlock);
                            return;
                        }
                        if (format.ActBits != 0)
                        {
                            // Quantizing the activations is part of every integer GEMV's time.
                            launcher.Launch(tableKernel, [xp, activationCodes, activationScale], 1, k);
                            launcher.Launch(kernel, [activationCodes, activationScale, c.Codes, c.Scales, c.Zeros, yp, 1, n], n, k);
                            return;
                        }
                        long[] slots = format.Sparse ? [xp, c.Codes, c.Scales, c.Zeros, yp, 1, n]
                            : format.HalfSparse ? [xp, c.Codes, c.Scales, yp, 1, n]
                            : format.Scheme is null ? [xp, c.Codes, yp, 1, n] : [xp, c.Codes, c.Scales, c.Zeros, yp, 1, n];
                        launcher.Launch(kernel, slots, n, k);
                    }
                    for (int i = 0; i < copies.Length; i++) Once();
                    double ms = Timing.MedianMs(Math.Max(15, 2 * copies.Length), Once);
                    double gbs = bytes / (ms / 1e3) / 1e9;
                    Console.WriteLine($"| {format.Name} | {n} x {k} | {threads} | {ms:F3} | {bytes / 1e6:F1} MB | {gbs:F1} | {gbs / bandwidth[threads]:P0} |");
                }
            }
        }
    }

    private sealed record Copy(nint Codes, nint Scales, nint Zeros);

    private static (IKernelSpec Spec, Copy[] Copies, long Bytes) Build(Format format, int n, int k)
    {
        var r = new Random(n ^ k);
        if (format.Scheme is null)
        {
            long bytes = 4L * n * k;
            var copies = Enumerable.Range(0, Copies(bytes)).Select(_ => new Copy(Pinned(RandomFloats(r, (long)n * k)), 0, 0)).ToArray();
            return (new DenseLinearSpec(k), copies, bytes);
        }
        var s = format.Scheme;
        var spec = QuantizedLinearSpec.For(s, k);
        int groups = s.GroupCount(k);
        long weightBytes = (long)n * spec.RowBytes + 2L * n * groups + (s.Symmetric ? 0 : (long)n * groups);
        var list = new List<Copy>();
        for (int c = 0; c < Copies(weightBytes); c++)
        {
            var codes = new byte[(long)n * spec.RowBytes];
            r.NextBytes(codes);
            var scales = RandomFloats(r, (long)n * groups).Select(v => (float)(Half)(v * 0.01f)).ToArray();
            var zeros = s.Symmetric ? null : Enumerable.Range(0, n * groups).Select(_ => (byte)r.Next(s.MaxCode + 1)).ToArray();
            list.Add(new Copy(Pinned(codes), Pinned(scales), zeros is null ? 0 : Pinned(zeros)));
        }
        // Counted as stored: packed codes, f16 scales, u8 zero points.
        return (spec, list.ToArray(), weightBytes);
    }

    /// <summary>Random permuted units (every nibble is a valid index) with the per-block f16 scales and u8 zero points the kernel reads.</summary>
    private static (IKernelSpec Spec, Copy[] Copies, long Bytes) BuildLut(QuantScheme s, int n, int k)
    {
        var r = new Random(n ^ k ^ 99);
        var spec = LutLinearSpec.For(s, k);
        var geo = spec.Geometry;
        long unitBytes = LutGeometry.RowBlocks(n) * geo.BlockBytes, entries = (long)LutGeometry.RowBlocks(n) * geo.Groups * LutGeometry.RowsPerBlock;
        long weightBytes = unitBytes + entries * (s.ScaleType.ByteSize + (s.Symmetric ? 0 : 1));
        var list = new List<Copy>();
        for (int c = 0; c < Copies(weightBytes); c++)
        {
            var units = new byte[unitBytes];
            r.NextBytes(units);
            var scales = new byte[entries * s.ScaleType.ByteSize];
            FloatStorage.Write(scales, RandomFloats(r, entries).Select(v => v * 0.01f).ToArray(), s.ScaleType);
            var zeros = s.Symmetric ? null : Enumerable.Range(0, (int)entries).Select(_ => (byte)r.Next(s.MaxCode + 1)).ToArray();
            list.Add(new Copy(Pinned(units), Pinned(scales), zeros is null ? 0 : Pinned(zeros)));
        }
        // Counted as the kernel reads them: permuted units (padded to whole bit planes), scales and zero points.
        return (spec, list.ToArray(), weightBytes);
    }

    /// <summary>2:4-pruned f32 rows as the sparse kernel reads them: i64 row starts, u16 columns and f32 values of the kept half.</summary>
    private static (IKernelSpec Spec, Copy[] Copies, long Bytes) BuildSparse(int n, int k)
    {
        var r = new Random(n ^ k ^ 24);
        long kept = (long)n * k / 2;
        long weightBytes = (n + 1L) * sizeof(long) + kept * (sizeof(ushort) + sizeof(float));
        var starts = Enumerable.Range(0, n + 1).Select(row => (long)row * (k / 2)).ToArray();
        var list = new List<Copy>();
        for (int c = 0; c < Copies(weightBytes); c++)
        {
            var columns = new ushort[kept];
            for (long i = 0; i < kept; i += 2)
            {
                int group = (int)(i / 2 % (k / 4)) * 4, a = r.Next(4), b = (a + 1 + r.Next(3)) % 4;
                (columns[i], columns[i + 1]) = ((ushort)(group + Math.Min(a, b)), (ushort)(group + Math.Max(a, b)));
            }
            list.Add(new Copy(Pinned(starts), Pinned(columns), Pinned(RandomFloats(r, kept))));
        }
        // Copy fields here: Codes = row starts, Scales = columns, Zeros = values (the kernel's slot order).
        return (new SparseLinearSpec(k), list.ToArray(), weightBytes);
    }

    /// <summary>2:4-pruned f32 rows for the permute kernel: a u8 window index and an f32 value per kept weight.</summary>
    private static (IKernelSpec Spec, Copy[] Copies, long Bytes) BuildHalfSparse(int n, int k)
    {
        var r = new Random(n ^ k ^ 48);
        long kept = (long)n * k / 2;
        long weightBytes = kept * (sizeof(byte) + sizeof(float));
        var list = new List<Copy>();
        for (int c = 0; c < Copies(weightBytes); c++)
        {
            var indices = new byte[kept];
            for (long i = 0; i < kept; i += 2)
            {
                int group = (int)(i / 2 % 2) * 4, a = r.Next(4), b = (a + 1 + r.Next(3)) % 4;
                (indices[i], indices[i + 1]) = ((byte)(group + Math.Min(a, b)), (byte)(group + Math.Max(a, b)));
            }
            list.Add(new Copy(Pinned(indices), Pinned(RandomFloats(r, kept)), 0));
        }
        // Copy fields here: Codes = indices, Scales = values.
        return (new HalfSparseLinearSpec(k), list.ToArray(), weightBytes);
    }

    private static int Copies(long bytes) => (int)Math.Max(2, (StreamBytes + bytes - 1) / bytes);

    private static nint Pinned<T>(T[] data) where T : unmanaged
    {
        var copy = GC.AllocateUninitializedArray<T>(data.Length, pinned: true);
        data.CopyTo(copy, 0);
        Keep.Add(copy);
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(copy));
    }

    private static readonly List<object> Keep = [];

    /// <summary>GB/s reading a buffer far larger than the caches, split into one contiguous range per thread.</summary>
    internal static double ReadBandwidth(int threads)
    {
        var data = GC.AllocateArray<float>((int)(StreamBytes / 4), pinned: true);
        new Random(1).NextBytes(MemoryMarshal.AsBytes(data.AsSpan()));
        for (int i = 0; i < data.Length; i += 1024) data[i] = 1;
        double sink = 0;
        double ms = Timing.MedianMs(7, () =>
        {
            var partial = new double[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long begin = data.LongLength * t / threads, end = data.LongLength * (t + 1) / threads;
                partial[t] = TensorPrimitives.Sum<float>(data.AsSpan((int)begin, (int)(end - begin)));
            });
            sink += partial.Sum();
        });
        GC.KeepAlive(sink);
        return StreamBytes / (ms / 1e3) / 1e9;
    }

    private static float[] RandomFloats(Random r, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return v;
    }
}
