using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Performance;

/// <summary>
/// The cycles of the steps an accelerator ran, apart for decode steps (a token each) and prefill chunks (several
/// tokens a step), in all and per instruction class (<see cref="PerformanceModel.InstructionClass"/>), beside the
/// performance model's prediction for the same programs. Measured cycles come from a device that counts them (the
/// Verilated RTL); the functional model gives predictions only.
/// </summary>
public sealed class CycleTally(PerformanceModel model)
{
    public Phase Decode { get; } = new();
    public Phase Prefill { get; } = new();

    /// <summary>Steps of either kind.</summary>
    public int Steps => Decode.Steps + Prefill.Steps;

    /// <summary>Whether every step's cycles were measured.</summary>
    public bool Measured => Decode.Measured && Prefill.Measured;

    /// <summary>A step of <paramref name="tokens"/> tokens: a decode step for one, a prefill chunk for more.</summary>
    public void Add(IReadOnlyList<Instruction> program, AcceleratorRun run, int tokens = 1) =>
        (tokens == 1 ? Decode : Prefill).Add(model.Predict(program), program, run, tokens);

    /// <summary>The cycles of one kind of step.</summary>
    public sealed class Phase
    {
        private readonly Dictionary<string, long> _measured = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _predicted = new(StringComparer.Ordinal);

        public int Steps { get; private set; }
        public long Tokens { get; private set; }
        public bool Measured { get; private set; } = true;
        public long Cycles { get; private set; }
        public long PredictedCycles { get; private set; }
        public IReadOnlyDictionary<string, long> ByClass => _measured;
        public IReadOnlyDictionary<string, long> PredictedByClass => _predicted;

        internal void Add(ProgramPrediction prediction, IReadOnlyList<Instruction> program, AcceleratorRun run, int tokens)
        {
            Steps++;
            Tokens += tokens;
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
}
