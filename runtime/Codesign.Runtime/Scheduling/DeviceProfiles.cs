using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Partitioning;

namespace Codesign.Runtime.Scheduling;

/// <summary>
/// The cost model's view of the runtime's devices: round figures of the class of machine, not measurements (the
/// placement only compares devices, and the benchmarks report what they really do). The cpu is a laptop/server core
/// complex streaming from DRAM; a CUDA gpu is an H100-class card behind PCIe; ILGPU's CPU accelerator turns every
/// warp shuffle into a thread barrier, so it is modelled as far slower than the cpu backend.
/// </summary>
public static class DeviceProfiles
{
    public static readonly DeviceProfile Cpu = new("cpu", MemoryBytesPerSecond: 20e9, FlopsPerSecond: 200e9, LaunchSeconds: 2e-6);

    public static readonly DeviceProfile CudaGpu = new("gpu", MemoryBytesPerSecond: 2.5e12, FlopsPerSecond: 50e12, LaunchSeconds: 5e-6,
        LinkBytesPerSecond: 25e9, LinkLatencySeconds: 10e-6);

    public static readonly DeviceProfile GpuOnCpuAccelerator = new("gpu", MemoryBytesPerSecond: 0.5e9, FlopsPerSecond: 1e9, LaunchSeconds: 100e-6);

    public static DeviceProfile Gpu(GpuDevice device) => device.IsCuda ? CudaGpu : GpuOnCpuAccelerator;
}
