using System.Numerics;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// How wide the generated accelerator is: <see cref="Cores"/> matrix cores, each with an AXI4 read port of
/// <see cref="BeatBytes"/>-byte beats on a memory channel (or channel group) of its own and <see cref="Lanes"/> = two
/// lanes a byte of the beat, so a beat of 4-bit codes fills them. The compiler picks it from the device
/// (<see cref="CoreFit"/>); <c>--fpga-cores</c> and <c>--fpga-beat</c> override it.
/// </summary>
public sealed record AcceleratorShape(int Cores, int BeatBytes)
{
    public const int MaxCores = 64;
    public static readonly int[] Beats = [16, 32, 64];

    public int Lanes => 2 * BeatBytes;
    public int Log2Cores => BitOperations.Log2((uint)Cores);

    public AcceleratorShape Checked() =>
        Cores is < 1 or > MaxCores || !BitOperations.IsPow2(Cores) ? throw new CodesignException($"fpga: {Cores} matrix cores; a power of two from 1 to {MaxCores}")
        : !Beats.Contains(BeatBytes) ? throw new CodesignException($"fpga: a core beat of {BeatBytes} bytes; one of {string.Join(", ", Beats)}")
        : this;

    /// <summary>The smallest design: one core on 16-byte beats.</summary>
    public static AcceleratorShape Minimal { get; } = new(1, 16);

    public override string ToString() => $"{Cores} cores x {Lanes} lanes ({BeatBytes}-byte beats)";
}
