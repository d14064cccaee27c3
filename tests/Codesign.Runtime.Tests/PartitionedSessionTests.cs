using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Runtime.Scheduling;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>Heterogeneous plans on tiny-llama-a give the single-device plan's tokens.</summary>
public class PartitionedSessionTests
{
    [TestCase("matmul=cpu,*=interpreter")]
    [TestCase("attention=cpu,norm=cpu,*=interpreter")]
    [TestCase("layout=interpreter,*=cpu")]
    public void A_split_across_interpreter_and_cpu_generates_the_single_device_tokens(string placement)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var ids = TinyLlamaFixture.Ids("prompt2.ids");
        using var split = PartitionedSessions.Open(placement, m.Graph, m.Weights);
        using var cpu = (CpuSession)DeviceSessions.Open("cpu", m.Graph, m.Weights);
        var tokens = TextGenerator.Generate(split, ids, 32, SamplingOptions.GreedyDecoding);
        Assert.That(tokens, Is.EqualTo(TextGenerator.Generate(cpu, ids, 32, SamplingOptions.GreedyDecoding)));
        Assert.That(tokens, Is.EqualTo(TinyLlamaFixture.Ids("prompt2.greedy")), "transformers' greedy tokens");
        Assert.That(split.Plan.Segments.Select(s => s.Device).Distinct(), Is.EquivalentTo(new[] { "cpu", "interpreter" }));
        Assert.That(split.DeviceTime.Values, Has.All.GreaterThan(TimeSpan.Zero));
        Assert.That(split.BytesIn.Values, Has.All.GreaterThan(0));
    }

    [Test]
    public void Matmuls_on_the_gpu_and_the_rest_on_the_cpu_generate_the_interpreters_tokens_for_a_w4_model()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("w4g128-gptq"));
        var ids = TinyLlamaFixture.Ids("prompt1.ids");
        using var split = PartitionedSessions.Open("matmul=gpu,*=cpu", m.Graph, store);
        var reference = new InterpreterSession(new ReferenceInterpreter(m.Graph, store));
        Assert.That(TextGenerator.Generate(split, ids, 12, SamplingOptions.GreedyDecoding),
            Is.EqualTo(TextGenerator.Generate(reference, ids, 12, SamplingOptions.GreedyDecoding)));
        Assert.That(split.Plan.Segments.Where(s => s.Device == "gpu").SelectMany(s => s.Graph.Nodes).Select(n => n.Op.Mnemonic).Distinct(),
            Is.EquivalentTo(new[] { "quant.qmatmul", "nn.matmul" }), "the packed layers and the f32 head");
    }

    [Test]
    public void Attention_on_the_gpu_keeps_its_cache_there_and_a_reset_clears_it()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var ids = TinyLlamaFixture.Ids("prompt0.ids");
        using var split = PartitionedSessions.Open("attention=gpu,*=cpu", m.Graph, m.Weights);
        var first = TextGenerator.Generate(split, ids, 6, SamplingOptions.GreedyDecoding);
        var again = TextGenerator.Generate(split, ids, 6, SamplingOptions.GreedyDecoding);
        Assert.That(again, Is.EqualTo(first), "the second request starts from an empty device cache");
        Assert.That(first, Is.EqualTo(TinyLlamaFixture.Ids("prompt0.greedy").Take(6)));
    }

    [Test]
    public void Auto_placement_runs_every_node_somewhere_and_generates_the_reference_tokens()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        using var auto = PartitionedSessions.Open(PartitionedSessions.Auto, m.Graph, m.Weights, notice: _ => { });
        Assert.That(auto.Plan.Placement.NodeDevices, Has.Count.EqualTo(m.Graph.Nodes.Count).And.All.AnyOf("cpu", "gpu"));
        var ids = TinyLlamaFixture.Ids("prompt0.ids");
        Assert.That(TextGenerator.Generate(auto, ids, 8, SamplingOptions.GreedyDecoding), Is.EqualTo(TinyLlamaFixture.Ids("prompt0.greedy").Take(8)));
    }

    [Test]
    public void A_placement_naming_an_unknown_device_is_refused_before_anything_is_compiled()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var e = Assert.Throws<CodesignException>(() => PartitionedSessions.Open("matmul=fpga,*=cpu", m.Graph, m.Weights))!;
        Assert.That(e.Message, Does.Contain("unknown device 'fpga'"));
    }
}
