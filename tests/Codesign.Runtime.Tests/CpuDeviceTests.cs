using Codesign.Backends.Cpu.Execution;
using Codesign.Compiler.Frontends;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>tiny-llama-a compiled for the cpu backend (LLVM JIT) against the reference interpreter on the same graph.</summary>
public class CpuDeviceTests
{
    private static (List<int> Cpu, List<int> Interpreter, float[] CpuLogits, float[] InterpreterLogits) RunBoth(string? recipe, int prompt, int threads)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = recipe is null ? m.Weights : RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.ids");
        using var program = CpuProgram.Compile(m.Graph, store, threads);
        var cpu = new CpuSession(program);
        var reference = new InterpreterSession(new ReferenceInterpreter(m.Graph, store));
        var cpuLogits = cpu.Forward(ids);
        var interpreterLogits = reference.Forward(ids);
        var options = SamplingOptions.GreedyDecoding;
        return (TextGenerator.Generate(cpu, ids, 32, options), TextGenerator.Generate(reference, ids, 32, options), cpuLogits, interpreterLogits);
    }

    private static void AssertLogitsClose(float[] cpu, float[] reference)
    {
        Assert.That(cpu, Has.Length.EqualTo(reference.Length));
        double scale = reference.Max(v => Math.Abs(v));
        double worst = cpu.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.That(worst, Is.LessThan(1e-4), "largest logit difference relative to the largest logit");
    }

    [TestCase(0, 2), TestCase(3, 1)]
    public void F32_generates_the_reference_greedy_tokens(int prompt, int threads)
    {
        var (cpu, interpreter, cpuLogits, interpreterLogits) = RunBoth(null, prompt, threads);
        AssertLogitsClose(cpuLogits, interpreterLogits);
        Assert.That(cpu, Is.EqualTo(interpreter));
        Assert.That(cpu, Is.EqualTo(TinyLlamaFixture.Ids($"prompt{prompt}.greedy")), "transformers' greedy tokens");
    }

    [TestCase("w4g128-gptq"), TestCase("w8-rtn"), TestCase("w2g32-awq"), TestCase("ternary-g64"), TestCase("w3g64-rtn")]
    public void Quantized_models_generate_the_interpreters_tokens(string recipe)
    {
        var (cpu, interpreter, cpuLogits, interpreterLogits) = RunBoth(recipe, 1, 2);
        AssertLogitsClose(cpuLogits, interpreterLogits);
        Assert.That(cpu, Is.EqualTo(interpreter));
    }
}
