using Codesign.Backends.Fpga.Isa;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// What the host sees of an accelerator: its system memory, each matrix core's channel, and a way to run an
/// instruction stream to its END. The functional model (<see cref="FunctionalAccelerator"/>) and the Verilated RTL
/// both implement it, so the same host code drives either and their memories can be compared.
/// </summary>
public interface IAcceleratorDevice : IDisposable
{
    long ExternalBytes { get; }
    void Write(long address, ReadOnlySpan<byte> data);
    void Read(long address, Span<byte> data);
    /// <summary>The matrix cores, each with a channel of <see cref="CoreBytes"/>.</summary>
    int Cores { get; }
    long CoreBytes { get; }
    void WriteCore(int core, long address, ReadOnlySpan<byte> data);
    void ReadCore(int core, long address, Span<byte> data);
    AcceleratorRun Run(IReadOnlyList<Instruction> program);
}

/// <summary>
/// What one run took: instructions executed per opcode (empty KV tiles skipped) and, where the device counts them,
/// cycles in all and per instruction of the program (from its fetch to the next one's).
/// </summary>
public sealed record AcceleratorRun(IReadOnlyDictionary<Opcode, int> Executed, long Cycles, IReadOnlyList<long>? InstructionCycles = null)
{
    /// <summary>Instructions executed per opcode up to the program's END, empty KV tiles skipped: what every device reports.</summary>
    public static Dictionary<Opcode, int> Count(IReadOnlyList<Instruction> program)
    {
        var executed = new Dictionary<Opcode, int>();
        foreach (var i in program.TakeWhile(i => i.Op != Opcode.End))
            if (!Compilation.InstructionCompiler.IsEmptyTile(i)) executed[i.Op] = executed.GetValueOrDefault(i.Op) + 1;
        return executed;
    }
}
