using Codesign.IR.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>Which accelerator runs the gpu kernels.</summary>
public enum GpuAcceleratorKind
{
    /// <summary>CUDA when a device exists, else ILGPU's CPU accelerator (with a notice saying so).</summary>
    Auto,
    /// <summary>CUDA only: no CUDA device is an error.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator: the same kernels, run by threads of this process (how CI tests them).</summary>
    Cpu,
}

/// <summary>Thrown when the gpu device cannot be opened (no CUDA device where one was required).</summary>
public sealed class GpuUnavailableException(string message) : CodesignException(message);

/// <summary>
/// An ILGPU context and accelerator, the launch geometry for it, and the kernels compiled for it so far. Kernels are
/// compiled by ILGPU when first used (PTX for CUDA, IL for the CPU accelerator) and kept for the device's lifetime.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private GpuDevice(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
        Geometry = GpuGeometry.For(accelerator);
        Kernels = new GpuKernels(accelerator);
    }

    public Context Context { get; }
    public Accelerator Accelerator { get; }
    public GpuGeometry Geometry { get; }
    internal GpuKernels Kernels { get; }
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>e.g. "cuda: NVIDIA H100 80GB HBM3 (79.1 GiB)" or "ILGPU cpu accelerator (no CUDA device)".</summary>
    public string Description => IsCuda
        ? $"cuda: {Accelerator.Name} ({Accelerator.MemorySize / (double)(1L << 30):F1} GiB)"
        : $"ILGPU cpu accelerator ({Accelerator.Name}; warp {Accelerator.WarpSize}, group {Geometry.GroupSize})";

    /// <param name="notice">Told when <see cref="GpuAcceleratorKind.Auto"/> falls back to the CPU accelerator.</param>
    public static GpuDevice Open(GpuAcceleratorKind kind = GpuAcceleratorKind.Auto, Action<string>? notice = null)
    {
        if (kind != GpuAcceleratorKind.Cpu && OpenCuda() is { } cuda) return cuda;
        if (kind == GpuAcceleratorKind.Cuda)
            throw new GpuUnavailableException("gpu: no CUDA device found (ILGPU sees none: is the NVIDIA driver installed and a GPU visible?); "
                + "use the cpu device, or the gpu kernels on ILGPU's CPU accelerator");
        if (kind == GpuAcceleratorKind.Auto)
            notice?.Invoke("gpu: no CUDA device found; running the gpu kernels on ILGPU's CPU accelerator (correct, but slow)");
        return OpenCpu(CpuWarpSize, CpuWarpsPerGroup, Environment.ProcessorCount);
    }

    /// <summary>
    /// The context settings every gpu device (and <see cref="Diagnostics.PtxListing"/>) uses: ILGPU.Algorithms' intrinsics,
    /// and O2, whose address-space inference makes the PTX backend emit global loads (and 16-byte vector loads of
    /// <see cref="Kernels.FloatQuad"/>) where O1 leaves generic ones.
    /// </summary>
    internal static Context.Builder Configure(Context.Builder builder) => builder.EnableAlgorithms().Optimize(OptimizationLevel.O2);

    private static GpuDevice? OpenCuda()
    {
        var context = Context.Create(b => Configure(b.Default()));
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count > 0) return new GpuDevice(context, devices[0].CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
        context.Dispose();
        return null;
    }

    /// <summary>
    /// The CPU accelerator runs every thread of a group as an OS thread and a warp shuffle as a barrier among them, so its
    /// cost grows with the warp: 2-thread warps, 2 per group, run tiny-llama 4x faster than ILGPU's default 4 x 4 while
    /// still exercising multi-lane and multi-warp code (the kernel tests also run the default shape).
    /// </summary>
    public const int CpuWarpSize = 2, CpuWarpsPerGroup = 2;

    /// <summary>ILGPU's CPU accelerator shaped as <paramref name="warpSize"/>-thread warps, <paramref name="warpsPerGroup"/> per group.</summary>
    public static GpuDevice OpenCpu(int warpSize, int warpsPerGroup, int multiprocessors, CPUAcceleratorMode mode = CPUAcceleratorMode.Auto)
    {
        var context = Context.Create(b => Configure(b.CPU(new CPUDevice(warpSize, warpsPerGroup, multiprocessors))));
        try
        {
            return new GpuDevice(context, context.CreateCPUAccelerator(0, mode));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>
/// Launch shapes: threads per group (a power of two, at least a warp), the warp size, and the shared memory a group may
/// ask for at launch.
/// </summary>
public sealed record GpuGeometry(int WarpSize, int GroupSize, int SharedBytesPerGroup)
{
    /// <summary>
    /// A CUDA kernel gets more dynamic shared memory than this only after cuFuncSetAttribute, which ILGPU does not call;
    /// the CPU accelerator, which has no limit, is held to it too, so CI launches what a GPU would.
    /// </summary>
    public const int LaunchSharedBytes = 48 * 1024;

    public int WarpsPerGroup => GroupSize / WarpSize;

    public static GpuGeometry For(Accelerator accelerator)
    {
        int warp = accelerator.WarpSize;
        // At most 256: the GEMM's shared tiles are sized for that many threads.
        int limit = Math.Min(Kernels.LinearKernels.MaxGemmThreads, accelerator.MaxNumThreadsPerGroup);
        int group = 1;
        while (group * 2 <= limit) group *= 2;
        if (group < warp || (warp & (warp - 1)) != 0)
            throw new GpuUnavailableException($"gpu: {accelerator.Name} has warps of {warp} and groups of at most {accelerator.MaxNumThreadsPerGroup} threads; the kernels need power-of-two warps that fit a group");
        return new GpuGeometry(warp, group, Math.Min(accelerator.MaxSharedMemoryPerGroup, LaunchSharedBytes));
    }

    /// <summary>Groups for a grid-stride kernel over <paramref name="items"/> elements.</summary>
    public int StrideGroups(long items) => (int)Math.Clamp((items + GroupSize - 1) / GroupSize, 1, 1 << 16);

    /// <summary>Groups for one warp per row.</summary>
    public int WarpRowGroups(int rows) => Math.Max(1, (rows + WarpsPerGroup - 1) / WarpsPerGroup);
}
