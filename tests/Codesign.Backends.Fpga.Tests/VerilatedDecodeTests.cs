using System.Diagnostics;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Semantics;
using static Codesign.Backends.Fpga.Tests.FunctionalAcceleratorTests;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The end-to-end check on the RTL: tiny-llama-a compressed for the accelerator decodes on the Verilated accelerator
/// (the fpga-sim device) with 1, 2 or 4 matrix cores, with logits equal bit for bit to the functional model's at every
/// step, greedy tokens equal to the reference interpreter's on the same compressed graph, and every step's cycles
/// within 2 % of the performance model's; with an int8 cache (fpga-w4a8-kv8) attention runs on the cores too.
/// </summary>
[Category("Verilator")]
public class VerilatedDecodeTests : RequiresVerilator
{
    // w4a8 keeps lm_head in f32 (the binary32 engine, a product a cycle): a shorter prompt keeps it in CI's budget.
    // A chunk of 1 feeds the prompt a token a decode step; more, in prefill chunks (the causal mask inside the tiles).
    [TestCase("fpga-w8a8", 0, 40, 6, 8, 2, 16), TestCase("fpga-w4a8", 2, 10, 6, 1, 4, 32), TestCase("fpga-w4a8-sparse24", 1, 10, 6, 3, 4, 16),
     TestCase("fpga-w4a8-block", 3, 10, 6, 4, 1, 16), TestCase("w4g128-rtn+lut", 3, 10, 6, 1, 1, 16), TestCase("fpga-w4a8", 1, 12, 4, 4, 2, 64),
     TestCase("fpga-w4a8-kv8", 0, 12, 6, 4, 2, 32), TestCase("fpga-w4a8-kv8", 3, 8, 4, 1, 4, 16)]
    public void Greedy_decoding_on_the_rtl_gives_the_functional_models_logits_and_the_interpreters_tokens(string recipe, int promptIndex, int promptTokens, int generate, int chunk,
        int cores, int beat)
    {
        var model = Compile(recipe, maxContext: 64, new AcceleratorShape(cores, beat));
        var graph = model.Graph;
        using var functional = model.FunctionalModel();
        using var rtl = model.Simulator();
        var golden = model.Runner(functional);
        var simulated = model.Runner(rtl);
        var interpreter = new ReferenceInterpreter(graph, model.Store);
        var cache = new KvCache();
        // block-sparse products' cycles follow their masks, which the weights hold
        var performance = new PerformanceModel(MemoryPort.Default) { Memory = functional.Read, Cores = model.Cores, CorePort = VerilatedAccelerator.DefaultCorePort(model.Cores) };

        var prompt = FixturePrompt(promptIndex).Take(promptTokens).ToArray();
        var rtlTokens = new List<int>();
        var referenceTokens = new List<int>();
        int next = 0;
        var clock = Stopwatch.StartNew();
        long cycles = 0;
        for (int position = 0; position < prompt.Length + generate;)
        {
            int[] tokens = position < prompt.Length ? prompt[position..Math.Min(position + chunk, prompt.Length)] : [next];
            int context = position + tokens.Length;
            var expected = golden.Step(tokens, context);
            var got = simulated.Step(tokens, context);
            cycles += simulated.LastRun!.Cycles;
            // The performance model predicts the whole step within 2 %.
            var prediction = performance.Predict(simulated.LastProgram!);
            Assert.That(prediction.Unpredicted, Is.Empty);
            Assert.That((double)prediction.Total, Is.EqualTo(simulated.LastRun.Cycles).Within(2).Percent, $"position {position}: predicted cycles");
            int first = Enumerable.Range(0, got.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(expected[i]), -1);
            Assert.That(first, Is.EqualTo(-1), () => $"position {position}: logit {first} is {got[first]:R} on the RTL, {expected[first]:R} on the functional model");
            float[] reference = [];
            foreach (int token in tokens) reference = InterpreterStep(interpreter, cache, graph, token, position++);
            next = ArgMax(got[^reference.Length..]);
            if (position >= prompt.Length)
            {
                rtlTokens.Add(next);
                referenceTokens.Add(ArgMax(reference));
            }
        }
        TestContext.Out.WriteLine($"{recipe} on {model.Cores.Shape}, chunks of {chunk}: {prompt.Length + generate} tokens, {cycles / (prompt.Length + generate)} cycles a token, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.That(rtlTokens, Is.EqualTo(referenceTokens));
    }
}
