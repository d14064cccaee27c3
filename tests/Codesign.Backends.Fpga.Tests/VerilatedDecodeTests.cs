using Codesign.Backends.Fpga.Cores;
using static Codesign.Backends.Fpga.Tests.FunctionalAcceleratorTests;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The end-to-end check on the RTL: tiny-llama-a compressed for the accelerator decodes on the Verilated accelerator
/// (the fpga-sim device) with 1, 2 or 4 matrix cores, with logits equal bit for bit to the functional model's at every
/// step, greedy tokens equal to the reference interpreter's on the same compressed graph, and every step's cycles
/// within 2 % of the performance model's; with an int8 cache (fpga-w4a8-kv8) attention runs on the cores too, and
/// with lm_head quantized as well the design has no binary32 engine; the 2:4 design's lanes are narrower than its port.
/// </summary>
[Category("Verilator")]
public class VerilatedDecodeTests : RequiresVerilator
{
    // w4a8 keeps lm_head in f32 (the binary32 engine, a product a cycle): a shorter prompt keeps it in CI's budget.
    // A chunk of 1 feeds the prompt a token a decode step; more, in prefill chunks (the causal mask inside the tiles).
    [TestCase("fpga-w8a8", 0, 40, 6, 8, 2, 16), TestCase("fpga-w4a8", 2, 10, 6, 1, 4, 32), TestCase("fpga-w4a8-sparse24", 1, 10, 6, 3, 4, 32, 16),
     TestCase("fpga-w4a8-block", 3, 10, 6, 4, 1, 16), TestCase("w4g128-rtn+lut", 3, 10, 6, 1, 1, 16), TestCase("fpga-w4a8", 1, 12, 4, 4, 2, 64),
     TestCase("fpga-w4a8-kv8", 0, 12, 6, 4, 2, 32), TestCase("fpga-w4a8-kv8", 3, 8, 4, 1, 4, 16)]
    public void Greedy_decoding_on_the_rtl_gives_the_functional_models_logits_and_the_interpreters_tokens(string recipe, int promptIndex, int promptTokens, int generate, int chunk,
        int cores, int beat, int laneBytes = 0)
    {
        var model = Compile(recipe, maxContext: 64, new AcceleratorShape(cores, beat, laneBytes == 0 ? null : laneBytes));
        var prompt = FixturePrompt(promptIndex).Take(promptTokens).ToArray();
        var (rtlTokens, referenceTokens, cycles, elapsed) = DecodeOnTheRtl.Run(model, prompt, chunk, generate);
        TestContext.Out.WriteLine($"{recipe} on {model.Cores.Shape}, chunks of {chunk}: {prompt.Length + generate} tokens, {cycles / (prompt.Length + generate)} cycles a token, {elapsed.TotalSeconds:F1} s");
        Assert.That(rtlTokens, Is.EqualTo(referenceTokens));
    }
}
