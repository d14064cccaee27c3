using System.Numerics;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// How wide the generated accelerator is: <see cref="Cores"/> matrix cores, each with an AXI4 read port of
/// <see cref="BeatBytes"/>-byte beats on a memory channel (or channel group) of its own and <see cref="Lanes"/> = two
/// lanes a byte of a lane beat of <see cref="LaneBytes"/> (by default the port's beat), so a beat of 4-bit codes fills
/// them. Lanes narrower than the port suit N:M rows, whose beats carry offsets besides codes. The compiler picks it
/// from the device (<see cref="CoreFit"/>); <c>--fpga-cores</c>, <c>--fpga-beat</c> and <c>--fpga-lanes</c> override it.
/// </summary>
public sealed record AcceleratorShape(int Cores, int BeatBytes, int? LaneBeatBytes = null)
{
    public const int MaxCores = 64;
    public static readonly int[] Beats = [16, 32, 64];

    /// <summary>Bytes of a beat of the lanes: at most the port's.</summary>
    public int LaneBytes => LaneBeatBytes ?? BeatBytes;

    public int Lanes => 2 * LaneBytes;
    public int Log2Cores => BitOperations.Log2((uint)Cores);

    public AcceleratorShape Checked() =>
        Cores is < 1 or > MaxCores || !BitOperations.IsPow2(Cores) ? throw new CodesignException($"fpga: {Cores} matrix cores; a power of two from 1 to {MaxCores}")
        : !Beats.Contains(BeatBytes) ? throw new CodesignException($"fpga: a core beat of {BeatBytes} bytes; one of {string.Join(", ", Beats)}")
        : !Beats.Contains(LaneBytes) || LaneBytes > BeatBytes ? throw new CodesignException($"fpga: {2 * LaneBytes} lanes behind {BeatBytes}-byte beats; {string.Join(", ", Beats.Where(b => b <= BeatBytes).Select(b => 2 * b))}")
        : this;

    /// <summary>The smallest design: one core on 16-byte beats.</summary>
    public static AcceleratorShape Minimal { get; } = new(1, 16);

    public override string ToString() => $"{Cores} cores x {Lanes} lanes ({BeatBytes}-byte beats)";
}
