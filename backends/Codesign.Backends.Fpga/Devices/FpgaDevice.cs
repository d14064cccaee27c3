using System.Text.Json.Serialization;

namespace Codesign.Backends.Fpga.Devices;

/// <summary>Programmable-logic resources of a part, as its data sheet counts them (BRAM in 36 Kb blocks).</summary>
public sealed record FpgaResources(long Dsp, long Lut, long Ff, long Bram36, long Uram, int Slr);

/// <summary>
/// One external memory of a card: its channels (each an AXI port of <see cref="ChannelBits"/> at <see cref="ChannelMhz"/>,
/// the view the fabric has of it), its size, and the latency the simulator's memory ports model. Bandwidth is derived
/// from the channels, never stated.
/// </summary>
public sealed record FpgaMemory(string Name, string Kind, int Channels, long Bytes, int ChannelBits, double ChannelMhz, int LatencyCycles)
{
    /// <summary>One channel's peak: its data width times its clock.</summary>
    [JsonIgnore]
    public double ChannelGbytesPerSecond => ChannelBits / 8.0 * ChannelMhz / 1000;

    /// <summary>All channels' peak.</summary>
    [JsonIgnore]
    public double GbytesPerSecond => Channels * ChannelGbytesPerSecond;

    /// <summary>Bytes one channel holds.</summary>
    [JsonIgnore]
    public long ChannelBytes => Bytes / Channels;

    /// <summary>Bytes one channel delivers per cycle of a <paramref name="clockMhz"/> clock at its peak.</summary>
    public double ChannelBytesPerCycle(double clockMhz) => ChannelBits / 8.0 * ChannelMhz / clockMhz;
}

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
    /// <summary>The memory weights stream from, a channel group per matrix core: the fastest.</summary>
    [JsonIgnore]
    public FpgaMemory WeightMemory => Memories.MaxBy(m => m.GbytesPerSecond)!;

    /// <summary>
    /// The memory behind the system port (inputs and outputs, constants, the embedding table, the KV caches, weights
    /// the cores do not take): the largest other memory where the card has one, else the weight memory.
    /// </summary>
    [JsonIgnore]
    public FpgaMemory SystemMemory => Memories.Where(m => m != WeightMemory).MaxBy(m => m.Bytes) ?? WeightMemory;

    /// <summary>Bytes the weight memory delivers per accelerator clock cycle at its peak, all channels together.</summary>
    [JsonIgnore]
    public double BytesPerCycle => WeightMemory.GbytesPerSecond * 1e9 / (ClockMhz * 1e6);
}
