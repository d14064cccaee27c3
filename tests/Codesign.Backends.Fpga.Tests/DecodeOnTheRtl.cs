using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Semantics;
using static Codesign.Backends.Fpga.Tests.FunctionalAcceleratorTests;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// Greedy decoding of a compiled model on the Verilated accelerator beside its functional model and the reference
/// interpreter: the prompt in chunks, then generated tokens a step each. At every step the RTL's logits are the
/// functional model's bit for bit and the performance model predicts the step's cycles within 2 %.
/// </summary>
internal static class DecodeOnTheRtl
{
    /// <param name="label">Begins every failure's message (what the caller drew at random, say).</param>
    /// <returns>The RTL's and the interpreter's greedy tokens from the end of the prompt on, the cycles of every step, and the loop's wall time (after the simulators are built).</returns>
    public static (List<int> Rtl, List<int> Reference, long Cycles, TimeSpan Elapsed) Run(FpgaCompilation model, int[] prompt, int chunk, int generate, string label = "")
    {
        var graph = model.Graph;
        using var functional = model.FunctionalModel();
        using var rtl = model.Simulator();
        var golden = model.Runner(functional);
        var simulated = model.Runner(rtl);
        var interpreter = new ReferenceInterpreter(graph, model.Store);
        var cache = new KvCache();
        // block-sparse products' cycles follow their masks, which the weights hold
        var performance = new PerformanceModel(MemoryPort.Default) { Memory = functional.Read, Cores = model.Cores, CorePort = VerilatedAccelerator.DefaultCorePort(model.Cores) };
        List<int> rtlTokens = [], referenceTokens = [];
        int next = 0;
        long cycles = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int position = 0; position < prompt.Length + generate;)
        {
            int[] tokens = position < prompt.Length ? prompt[position..Math.Min(position + chunk, prompt.Length)] : [next];
            int context = position + tokens.Length;
            var expected = golden.Step(tokens, context);
            var got = simulated.Step(tokens, context);
            cycles += simulated.LastRun!.Cycles;
            var prediction = performance.Predict(simulated.LastProgram!);
            Assert.That(prediction.Unpredicted, Is.Empty, $"{label}position {position}: instructions without a prediction");
            Assert.That((double)prediction.Total, Is.EqualTo(simulated.LastRun.Cycles).Within(2).Percent, $"{label}position {position}: predicted cycles");
            int first = Enumerable.Range(0, got.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(expected[i]), -1);
            Assert.That(first, Is.EqualTo(-1), () => $"{label}position {position}: logit {first} is {got[first]:R} on the RTL, {expected[first]:R} on the functional model");
            float[] reference = [];
            foreach (int token in tokens) reference = InterpreterStep(interpreter, cache, graph, token, position++);
            next = ArgMax(got[^reference.Length..]);
            if (position >= prompt.Length)
            {
                rtlTokens.Add(next);
                referenceTokens.Add(ArgMax(reference));
            }
        }
        return (rtlTokens, referenceTokens, cycles, clock.Elapsed);
    }
}
