using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Performance;

/// <summary>
/// The cycles of the steps an accelerator ran, in all and per instruction class (<see cref="PerformanceModel.InstructionClass"/>),
/// beside the performance model's prediction for the same programs. Measured cycles come from a device that counts
/// them (the Verilated RTL); the functional model gives predictions only.
/// </summary>
public sealed class CycleTally(PerformanceModel model)
{
    private readonly Dictionary<string, long> _measured = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _predicted = new(StringComparer.Ordinal);

    public int Steps { get; private set; }
    /// <summary>Whether every step's cycles were measured.</summary>
    public bool Measured { get; private set; } = true;
    public long Cycles { get; private set; }
    public long PredictedCycles { get; private set; }
    public IReadOnlyDictionary<string, long> ByClass => _measured;
    public IReadOnlyDictionary<string, long> PredictedByClass => _predicted;

    public void Add(IReadOnlyList<Instruction> program, AcceleratorRun run)
    {
        Steps++;
        var prediction = model.Predict(program);
        PredictedCycles += prediction.Total;
        foreach (var (name, cycles) in prediction.ByClass) _predicted[name] = _predicted.GetValueOrDefault(name) + cycles;
        if (run.InstructionCycles is not { } perInstruction)
        {
            Measured = false;
            return;
        }
        Cycles += run.Cycles;
        for (int n = 0; n < program.Count; n++)
        {
            string name = PerformanceModel.InstructionClass(program[n]);
            _measured[name] = _measured.GetValueOrDefault(name) + perInstruction[n];
            if (program[n].Op == Opcode.End) break;
        }
    }
}
