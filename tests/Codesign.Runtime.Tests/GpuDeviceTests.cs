using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Frontends;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

using static Codesign.Runtime.Tests.LogitAssertions;

namespace Codesign.Runtime.Tests;

/// <summary>
/// tiny-llama-a on the gpu backend (ILGPU's CPU accelerator in CI; CODESIGN_GPU_TESTS=cuda for a CUDA device) against
/// the reference interpreter on the same graph, and f32 against transformers.
/// </summary>
public class GpuDeviceTests
{
    private static readonly Lazy<GpuDevice> Device = new(() => GpuDevice.Open(
        Environment.GetEnvironmentVariable("CODESIGN_GPU_TESTS") == "cuda" ? GpuAcceleratorKind.Cuda : GpuAcceleratorKind.Cpu));

    private static (List<int> Gpu, List<int> Interpreter, float[] GpuLogits, float[] InterpreterLogits) RunBoth(Graph graph, IWeightStore store, int prompt, int tokens = 32)
    {
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.ids");
        using var gpu = new GpuSession(GpuProgram.Compile(graph, store, Device.Value));
        var reference = new InterpreterSession(new ReferenceInterpreter(graph, store));
        var gpuLogits = gpu.Forward(ids);
        var interpreterLogits = reference.Forward(ids);
        var options = SamplingOptions.GreedyDecoding;
        return (TextGenerator.Generate(gpu, ids, tokens, options), TextGenerator.Generate(reference, ids, tokens, options), gpuLogits, interpreterLogits);
    }

    [TestCase(0), TestCase(2)]
    public void F32_generates_the_reference_greedy_tokens(int prompt)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var (gpu, interpreter, gpuLogits, interpreterLogits) = RunBoth(m.Graph, m.Weights, prompt);
        AssertLogitsClose(gpuLogits, interpreterLogits);
        Assert.That(gpu, Is.EqualTo(interpreter));
        Assert.That(gpu, Is.EqualTo(TinyLlamaFixture.Ids($"prompt{prompt}.greedy")), "transformers' greedy tokens");
    }

    [TestCase("w4g128-gptq"), TestCase("w8-rtn"), TestCase("w2g32-awq"), TestCase("ternary-g64"), TestCase("w3g64-rtn"), TestCase("sparse24-wanda-w4g128-gptq"), TestCase("sparse48-magnitude"), TestCase("w4a8-kv4-gptq"), TestCase("w8a8-smoothquant")]
    public void Compressed_models_generate_the_interpreters_tokens(string recipe)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var (gpu, interpreter, gpuLogits, interpreterLogits) = RunBoth(m.Graph, store, 1, 24);
        AssertLogitsClose(gpuLogits, interpreterLogits);
        Assert.That(gpu, Is.EqualTo(interpreter));
    }

    [Test]
    public void A_lut_lowered_model_generates_the_interpreters_tokens_for_that_graph()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("w2g32-awq"));
        // The cpu's lut-lower writes the lut.mpgemm graph (it lowers only where the host has AVX2).
        var lowered = Backends.Cpu.Lowering.LutLowering.Apply(m.Graph, Backends.Cpu.Lowering.LutChoice.Always).Graph;
        if (!lowered.Nodes.Any(n => n.Op is IR.Ops.LutMatMulOp)) Assert.Ignore("the cpu's lut-lower needs AVX2 to rewrite the graph");
        var (gpu, interpreter, gpuLogits, interpreterLogits) = RunBoth(lowered, store, 0, 24);
        AssertLogitsClose(gpuLogits, interpreterLogits, 1e-3);
        Assert.That(gpu, Is.EqualTo(interpreter));
    }

    [Test]
    public void The_gpu_device_opens_by_name_and_resets_its_device_cache()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var notices = new List<string>();
        var session = DeviceSessions.Open("gpu", m.Graph, m.Weights, notice: notices.Add);
        try
        {
            var ids = TinyLlamaFixture.Ids("prompt0.ids");
            var first = session.Forward(ids);
            session.Forward([5]);
            session.Reset();
            Assert.That(session.Forward(ids), Is.EqualTo(first), "after Reset the device cache is empty again");
            if (!((GpuSession)session).DeviceDescription.StartsWith("cuda", StringComparison.Ordinal))
                Assert.That(notices, Has.One.Contains("no CUDA device found"));
        }
        finally
        {
            ((IDisposable)session).Dispose();
        }
    }
}
