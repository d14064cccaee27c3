using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// A matrix core's memory channel behind its AXI4 read port, as the simulation (testbenches/axi_memory_model.h,
/// AxiReadPort) and the performance model take it: cycles from an accepted burst to its first beat, and bytes per cycle
/// on average (a token bucket, at most a beat a cycle).
/// </summary>
public sealed record CorePort(int LatencyCycles, double BytesPerCycle)
{
    public CorePort Checked(int beatBytes) =>
        LatencyCycles is < 0 or > 1 << 20 ? throw new CodesignException($"core port: latency {LatencyCycles} cycles must be 0 to {1 << 20}")
        : !(BytesPerCycle > 0 && BytesPerCycle <= beatBytes) ? throw new CodesignException($"core port: {BytesPerCycle} bytes per cycle must be above 0 and at most one {beatBytes}-byte beat")
        : this;

    /// <summary>
    /// The port each of <paramref name="shape"/>'s cores has on <paramref name="device"/>'s weight memory: its channels
    /// divided among the cores (a core with several channels reads them as one wider port), up to a beat a cycle; where
    /// the system port shares that memory (a card with one memory), the cores share what it leaves.
    /// </summary>
    public static CorePort Of(FpgaDevice device, AcceleratorShape shape)
    {
        var memory = device.WeightMemory;
        double all = memory.Channels * memory.ChannelBytesPerCycle(device.ClockMhz);
        if (device.SystemMemory == memory) all -= MemoryPort.Of(device).BytesPerCycle;
        return new CorePort(memory.LatencyCycles, Math.Min(shape.BeatBytes, Math.Max(1, all / shape.Cores)));
    }

    /// <summary>Bytes of a core's channel on <paramref name="device"/>: the weight memory's channels divided among the cores.</summary>
    public static long ChannelBytes(FpgaDevice device, AcceleratorShape shape) => device.WeightMemory.Bytes / shape.Cores;
}
