namespace Codesign.Backends.Fpga.Devices;

/// <summary>Programmable-logic resources of a part, as its data sheet counts them (BRAM in 36 Kb blocks).</summary>
public sealed record FpgaResources(long Dsp, long Lut, long Ff, long Bram36, long Uram, int Slr);

/// <summary>One external memory of a card: its channels, size, peak bandwidth over all channels, and the latency the simulator's memory port models.</summary>
public sealed record FpgaMemory(string Name, string Kind, int Channels, long Bytes, double GbytesPerSecond, int LatencyCycles);

/// <summary>
/// A device description from <c>devices/*.json</c>: the part, its resources and memories, and the clock the design
/// targets. The compiler sizes the accelerator from it and checks the synthesised design against it.
/// </summary>
public sealed record FpgaDevice(
    string Name,
    string Part,
    string Family,
    string Description,
    IReadOnlyList<string> Sources,
    FpgaResources Resources,
    IReadOnlyList<FpgaMemory> Memories,
    double ClockMhz)
{
    /// <summary>The memory weights stream from: the fastest.</summary>
    public FpgaMemory WeightMemory => Memories.MaxBy(m => m.GbytesPerSecond)!;

    /// <summary>Bytes the weight memory delivers per accelerator clock cycle at its peak.</summary>
    public double BytesPerCycle => WeightMemory.GbytesPerSecond * 1e9 / (ClockMhz * 1e6);
}
