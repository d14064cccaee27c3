using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

using static Codesign.Runtime.Tests.LogitAssertions;

namespace Codesign.Runtime.Tests;

/// <summary>tiny-llama-a compiled for the cpu backend (LLVM JIT) against the reference interpreter on the same graph.</summary>
public class CpuDeviceTests
{
    private static (List<int> Cpu, List<int> Interpreter, float[] CpuLogits, float[] InterpreterLogits) RunBoth(string? recipe, int prompt, int threads, LutChoice lut = LutChoice.Never, Action<CpuProgram>? inspect = null)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = recipe is null ? m.Weights : RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.ids");
        using var program = CpuProgram.Compile(m.Graph, store, threads, lut: lut);
        inspect?.Invoke(program);
        var cpu = new CpuSession(program);
        // The graph the cpu lowered to (lut.mpgemm where it chose lookups) is the one the interpreter checks.
        var reference = new InterpreterSession(new ReferenceInterpreter(program.Graph, store));
        var cpuLogits = cpu.Forward(ids);
        var interpreterLogits = reference.Forward(ids);
        var options = SamplingOptions.GreedyDecoding;
        return (TextGenerator.Generate(cpu, ids, 32, options), TextGenerator.Generate(reference, ids, 32, options), cpuLogits, interpreterLogits);
    }

    [TestCase(0, 2), TestCase(3, 1)]
    public void F32_generates_the_reference_greedy_tokens(int prompt, int threads)
    {
        var (cpu, interpreter, cpuLogits, interpreterLogits) = RunBoth(null, prompt, threads);
        AssertLogitsClose(cpuLogits, interpreterLogits);
        Assert.That(cpu, Is.EqualTo(interpreter));
        Assert.That(cpu, Is.EqualTo(TinyLlamaFixture.Ids($"prompt{prompt}.greedy")), "transformers' greedy tokens");
    }

    [TestCase("w4g128-gptq"), TestCase("w8-rtn"), TestCase("w2g32-awq"), TestCase("ternary-g64"), TestCase("w3g64-rtn"), TestCase("sparse24-magnitude"), TestCase("sparse24-wanda-w4g128-gptq"), TestCase("w4a8-kv4-gptq"), TestCase("w8a8-smoothquant")]
    public void Quantized_models_generate_the_interpreters_tokens(string recipe)
    {
        var (cpu, interpreter, cpuLogits, interpreterLogits) = RunBoth(recipe, 1, 2);
        AssertLogitsClose(cpuLogits, interpreterLogits);
        Assert.That(cpu, Is.EqualTo(interpreter));
    }

    [Test]
    public void A_group_accumulating_model_generates_the_interpreters_tokens()
    {
        string scratch = TestPaths.NewScratchDirectory("mixpe"), recipe = Path.Combine(scratch, "w4g32-mixpe.json");
        File.WriteAllText(recipe, """{ "name": "W4 g32 MixPE", "layers": [ { "match": "lm_head", "keep": "f32" }, { "match": "*", "quant": { "bits": 4, "group": 32, "accumulate": "group" } } ] }""");
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, recipe);
        Directory.Delete(scratch, recursive: true);
        Assert.That(m.Graph.Nodes.Count(n => n.Op is IR.Ops.QMatMulOp { Accumulate: IR.Ops.QMatMulOp.GroupAccumulate }), Is.EqualTo(28));
        using var program = CpuProgram.Compile(m.Graph, store, threads: 2, lut: LutChoice.Never);
        var ids = TinyLlamaFixture.Ids("prompt0.ids");
        var cpu = new CpuSession(program);
        var reference = new InterpreterSession(new ReferenceInterpreter(program.Graph, store));
        AssertLogitsClose(cpu.Forward(ids), reference.Forward(ids));
        Assert.That(TextGenerator.Generate(cpu, ids, 24, SamplingOptions.GreedyDecoding), Is.EqualTo(TextGenerator.Generate(reference, ids, 24, SamplingOptions.GreedyDecoding)));
    }

    /// <summary>Integer attention (<c>kv_cache.act_bits = 8</c>) runs on the cpu through the reference kernel, over the cache's codes.</summary>
    [Test]
    public void An_integer_attention_model_generates_the_interpreters_tokens()
    {
        string scratch = TestPaths.NewScratchDirectory("int8-attention"), recipe = Path.Combine(scratch, "w4-kv8-int8-attention.json");
        File.WriteAllText(recipe, """{ "name": "W4 g128, int8 KV and attention", "kv_cache": { "bits": 8, "act_bits": 8 }, "layers": [ { "match": "lm_head", "keep": "f32" }, { "match": "*", "quant": { "bits": 4, "group": 128 } } ] }""");
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, recipe);
        Directory.Delete(scratch, recursive: true);
        Assert.That(m.Graph.Nodes.Count(n => n.Op is IR.Ops.AttentionOp { KvBits: 8, ActBits: 8 }), Is.EqualTo(4));
        using var program = CpuProgram.Compile(m.Graph, store, threads: 2, lut: LutChoice.Never);
        var ids = TinyLlamaFixture.Ids("prompt2.ids");
        var cpu = new CpuSession(program);
        var reference = new InterpreterSession(new ReferenceInterpreter(program.Graph, store));
        AssertLogitsClose(cpu.Forward(ids), reference.Forward(ids));
        Assert.That(TextGenerator.Generate(cpu, ids, 24, SamplingOptions.GreedyDecoding), Is.EqualTo(TextGenerator.Generate(reference, ids, 24, SamplingOptions.GreedyDecoding)));
    }

    [TestCase("w2g32-awq"), TestCase("w4g128-gptq"), TestCase("ternary-g64")]
    public void Lut_lowered_models_generate_the_interpreters_tokens_for_the_lowered_graph(string recipe)
    {
        if (!Backends.Cpu.Execution.CpuFeatures.Has(Backends.Cpu.Codegen.LutLinearSpec.RequiredFeature)) Assert.Ignore("no AVX2 on this CPU");
        var (cpu, interpreter, cpuLogits, interpreterLogits) = RunBoth(recipe, 2, 2, LutChoice.Auto, program =>
        {
            var quantized = program.Graph.Nodes.Count(n => n.Op is IR.Ops.LutMatMulOp);
            Assert.That(quantized, Is.EqualTo(program.LutDecisions.Count), string.Join("\n", program.LutDecisions));
            Assert.That(program.LutDecisions, Has.Count.GreaterThan(0).And.All.Matches<LutDecision>(d => d!.Lut));
            Assert.That(program.Graph.Nodes.Any(n => n.Op is IR.Ops.QMatMulOp), Is.False);
        });
        Assert.That(cpu, Is.EqualTo(interpreter));
        // Each lut.mpgemm is bit-exact given the same activations (LutKernelTests), but an int8 table entry sitting
        // on a rounding boundary flips under the last-bit f32 differences other kernels leave, and a flip moves a
        // row by a whole table step: logits agree to table precision, not to f32 precision.
        AssertLogitsClose(cpuLogits, interpreterLogits, 2e-2);
    }

    [Test]
    public void Lut_lowering_leaves_the_callers_graph_and_eight_bit_layers_alone()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("mixed-precision"));
        string before = IR.Text.GraphPrinter.Print(m.Graph);
        using var program = CpuProgram.Compile(m.Graph, store, lut: LutChoice.Always);
        Assert.That(IR.Text.GraphPrinter.Print(m.Graph), Is.EqualTo(before));
        foreach (var d in program.LutDecisions)
        {
            var node = program.Graph.Nodes.Single(n => n.Outputs[0].Name == d.Node);
            int bits = node.Inputs[1].Type.DType.Scheme!.Bits;
            Assert.That(d.Lut, Is.EqualTo(bits <= 4 && Backends.Cpu.Execution.CpuFeatures.Has("avx2")), d.ToString());
            Assert.That(node.Op, d.Lut ? Is.TypeOf<IR.Ops.LutMatMulOp>() : Is.TypeOf<IR.Ops.QMatMulOp>());
        }
    }

    [Test]
    public void A_token_id_outside_the_vocabulary_is_a_clear_error()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        using var program = CpuProgram.Compile(m.Graph, m.Weights);
        Assert.That(() => new CpuSession(program).Forward([1, 2048]),
            Throws.TypeOf<IR.Diagnostics.CodesignException>().With.Message.Contain("token id 2048 is outside the table of 2048 rows"));
    }
}
