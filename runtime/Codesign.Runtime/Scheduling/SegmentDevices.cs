using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Partitioning;

namespace Codesign.Runtime.Scheduling;

/// <summary>
/// The devices the segments of one partitioned session share, opened on first use: one gpu context, one set of cpu
/// worker threads (separate launchers would each keep spinning workers competing for the same cores).
/// </summary>
public sealed class SegmentDevices(int threads, Action<string>? notice) : IDisposable
{
    private GpuDevice? _gpu;
    private KernelLauncher? _launcher;

    public GpuDevice Gpu => _gpu ??= GpuDevice.Open(GpuAcceleratorKind.Auto, notice);
    public KernelLauncher Launcher => _launcher ??= new KernelLauncher(threads > 0 ? threads : Environment.ProcessorCount);

    /// <summary>Closes the gpu when it was opened only to ask the cost model and no segment runs on it.</summary>
    internal void ReleaseUnused(PartitionPlan plan)
    {
        if (_gpu is not null && !plan.Segments.Any(s => s.Device == "gpu"))
        {
            _gpu.Dispose();
            _gpu = null;
        }
    }

    public void Dispose()
    {
        _launcher?.Dispose();
        _gpu?.Dispose();
        _launcher = null;
        _gpu = null;
    }
}
