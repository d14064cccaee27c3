using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Performance;

/// <summary>
/// Predicts the cycles each instruction takes on the accelerator RTL (hdl-templates/accelerator.sv.sbn) behind a
/// <see cref="MemoryPort"/>, from the instruction alone: the controller's fetch and issue, then the unit's work —
/// a transfer is the port's latency plus its beats at the port's rate, an element-wise SFU operation one element
/// per cycle. The formulas follow the RTL's state machines; the Verilated accelerator's measured cycles check them
/// (PerformanceModelTests). Instructions the RTL does not execute yet have no prediction.
/// </summary>
public sealed record PerformanceModel(MemoryPort Port)
{
    /// <summary>The controller's fetch and issue cycles, spent by every instruction.</summary>
    public const int IssueCycles = 2;

    /// <summary>The cycle the accelerator takes to leave idle when started.</summary>
    public const int StartCycles = 1;

    /// <summary>Cycles from the first beat of a burst to its last (the port moves at most one beat per cycle).</summary>
    public long BurstSpan(long beats, int minimumInterval = 1) =>
        beats <= 1 ? 0 : Math.Max((beats - 1) * minimumInterval, (long)Math.Ceiling((beats - 1) * MemoryPort.BeatBytes / Port.BytesPerCycle - 1e-9));

    private static long Beats(long bytes) => (bytes + MemoryPort.BeatBytes - 1) / MemoryPort.BeatBytes;

    /// <summary>The cycles <paramref name="i"/> takes from its fetch to the next instruction's, or null where the RTL does not execute it.</summary>
    public long? Cycles(Instruction i)
    {
        int latency = Port.LatencyCycles;
        switch (i.Op)
        {
            case Opcode.Sync or Opcode.End:
                return IssueCycles;
            case Opcode.Load when i.C == 0:
            case Opcode.Store when i.C == 0:
                return IssueCycles + 1;
            case Opcode.Load:
                // request, the latency, the beats, then the done the controller waits on
                return IssueCycles + 1 + latency + BurstSpan(Beats(i.C)) + 2;
            case Opcode.Store:
                // request; each beat is read from the buffer (a cycle) then sent; the response comes the latency later
                return IssueCycles + 2 + BurstSpan(Beats(i.C), minimumInterval: 2) + 1 + Math.Max(0, latency - 1) + 2;
            case Opcode.Gather:
                // per row: read its id (two cycles), request, the latency, the row's beats
                return i.C == 0 ? IssueCycles + 1 : IssueCycles + 1 + i.C * (4L + latency + BurstSpan(i.B / MemoryPort.BeatBytes));
            case Opcode.Sfu when (SfuFunction)i.Function is SfuFunction.Add or SfuFunction.Multiply or SfuFunction.Silu:
            {
                long elements = (long)i.A * i.B;
                return elements == 0 ? IssueCycles + 1 : IssueCycles + elements + 2;
            }
            default:
                return null;
        }
    }

    /// <summary>The predicted cycles of a program up to its END: in total, per instruction, and per instruction class.</summary>
    public ProgramPrediction Predict(IReadOnlyList<Instruction> program)
    {
        var perInstruction = new long[program.Count];
        var byClass = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = StartCycles;
        var unpredicted = new List<int>();
        for (int n = 0; n < program.Count; n++)
        {
            var i = program[n];
            var cycles = Cycles(i);
            if (cycles is null) unpredicted.Add(n);
            perInstruction[n] = cycles ?? 0;
            total += perInstruction[n];
            string name = InstructionClass(i);
            byClass[name] = byClass.GetValueOrDefault(name) + perInstruction[n];
            if (i.Op == Opcode.End) break;
        }
        return new ProgramPrediction(total, perInstruction, byClass, unpredicted);
    }

    /// <summary>The class an instruction is reported under: its opcode, an SFU function, or attention for the KV-tile products.</summary>
    public static string InstructionClass(Instruction i) => i.Op switch
    {
        Opcode.Sfu => $"sfu.{((SfuFunction)i.Function).ToString().ToLowerInvariant()}",
        Opcode.MatVec or Opcode.MatMat when (i.Function & (MatrixFormat.AttentionScores | MatrixFormat.AttentionOutput)) != 0 => "attention",
        _ => i.Op.ToString().ToLowerInvariant(),
    };
}

/// <summary>A program's predicted cycles; <see cref="Unpredicted"/> lists the instructions the model has no formula for yet.</summary>
public sealed record ProgramPrediction(long Total, IReadOnlyList<long> PerInstruction, IReadOnlyDictionary<string, long> ByClass, IReadOnlyList<int> Unpredicted);
