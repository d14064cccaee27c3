using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The system memory behind the accelerator's AXI-like port, as the simulation models it: cycles from an accepted
/// read request to its first 16-byte beat (and from a write's last beat to its response), and bytes per cycle
/// after that (at most one beat per cycle). The performance model prices transfers with the same two numbers.
/// </summary>
public sealed record MemoryPort(int LatencyCycles, double BytesPerCycle)
{
    public const int BeatBytes = 16;

    /// <summary>A DDR/HBM-like port: tens of cycles to the first beat, then a beat per cycle.</summary>
    public static MemoryPort Default { get; } = new(32, BeatBytes);

    /// <summary>The system port to <paramref name="device"/>'s system memory: its latency, and its bandwidth up to a beat a cycle.</summary>
    public static MemoryPort Of(Devices.FpgaDevice device)
    {
        var memory = device.SystemMemory;
        return new(memory.LatencyCycles, Math.Min(BeatBytes, memory.GbytesPerSecond * 1e3 / device.ClockMhz));
    }

    public MemoryPort Checked() =>
        LatencyCycles is < 0 or > 1 << 20 ? throw new CodesignException($"memory port: latency {LatencyCycles} cycles must be 0 to {1 << 20}")
        : !(BytesPerCycle > 0 && BytesPerCycle <= BeatBytes) ? throw new CodesignException($"memory port: {BytesPerCycle} bytes per cycle must be above 0 and at most one {BeatBytes}-byte beat")
        : this;
}
