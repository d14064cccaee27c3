using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.Testing;

namespace Codesign.Compiler.Tests;

public class PartitioningTests
{
    private static readonly string[] Devices = ["interpreter", "cpu", "gpu"];

    [Test]
    public void A_mnemonic_rule_wins_over_its_class_which_wins_over_the_default()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var placed = PlacementSpec.Parse("matmul=gpu, nn.softmax=interpreter ,norm=cpu,*=interpreter", Devices).Place(m.Graph);
        for (int i = 0; i < m.Graph.Nodes.Count; i++)
        {
            var op = m.Graph.Nodes[i].Op;
            string expected = op.Mnemonic == "nn.softmax" ? "interpreter" : OpClasses.Of(op) switch { "matmul" => "gpu", "norm" => "cpu", _ => "interpreter" };
            Assert.That(placed.NodeDevices[i], Is.EqualTo(expected), op.Mnemonic);
        }
        Assert.That(placed.Summary(), Does.Contain("gpu: matmul 29"));
    }

    [TestCase("matmul=gpu", "places no rule on nn.embedding")]
    [TestCase("matmul=tpu,*=cpu", "unknown device 'tpu'")]
    [TestCase("convolution=gpu,*=cpu", "'convolution' is neither")]
    [TestCase("matmul=gpu,matmul=cpu,*=cpu", "'matmul' is placed twice")]
    [TestCase("matmul:gpu", "is not SELECTOR=DEVICE")]
    [TestCase("matmul=,*=cpu", "is not SELECTOR=DEVICE")]
    public void A_bad_placement_is_refused_naming_what_is_wrong(string spec, string message)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var e = Assert.Throws<CodesignException>(() => PlacementSpec.Parse(spec, Devices).Place(m.Graph))!;
        Assert.That(e.Message, Does.Contain(message).And.Contain(spec));
    }

    [Test]
    public void Every_op_of_the_ir_has_one_placement_class()
    {
        var all = OpClasses.Members.Values.SelectMany(v => v).ToList();
        Assert.That(all, Is.Unique);
        Assert.That(all, Is.EquivalentTo(IR.Ops.OpRegistry.Mnemonics));
    }

    [Test]
    public void Segments_hold_every_node_once_in_program_order_and_read_only_what_earlier_segments_export()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var plan = GraphPartitioner.Split(RandomPlacement(m.Graph, RandomTensorsSeed()));
        Assert.That(plan.Segments.SelectMany(s => s.Graph.Nodes.SelectMany(n => n.Outputs.Select(v => v.Name))),
            Is.EqualTo(m.Graph.Nodes.SelectMany(n => n.Outputs.Select(v => v.Name))));
        var deviceOf = m.Graph.Nodes.Select((n, i) => (n, i)).ToDictionary(x => x.n.Outputs[0].Name, x => plan.Placement.NodeDevices[x.i]);
        var available = new HashSet<string>(m.Graph.Inputs.Select(v => v.Name));
        foreach (var s in plan.Segments)
        {
            Assert.That(s.Graph.Inputs.Select(v => v.Name), Is.SubsetOf(available), $"segment {s.Index}");
            Assert.That(s.Graph.Nodes.Select(n => deviceOf[n.Outputs[0].Name]), Has.All.EqualTo(s.Device));
            foreach (var v in s.Graph.Outputs) available.Add(v.Name);
            if (s.Index > 0) Assert.That(s.Device, Is.Not.EqualTo(plan.Segments[s.Index - 1].Device), "neighbouring runs on one device are one segment");
        }
        Assert.That(plan.Segments[^1].Graph.Outputs.Select(v => v.Name), Does.Contain(LlamaGraphBuilder.LogitsOutput));
        foreach (var t in plan.Transfers)
            Assert.That(t.From, Is.EqualTo(t.Value is "tokens" or "positions" ? PartitionPlan.Host : plan.Segments.Single(s => s.Graph.Nodes.Any(n => n.Outputs.Any(o => o.Name == t.Value))).Device));
    }

    [Test]
    public void Running_the_segments_in_order_gives_the_whole_graphs_logits_bit_for_bit()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var plan = GraphPartitioner.Split(RandomPlacement(m.Graph, RandomTensorsSeed()));
        var ids = new[] { 1, 415, 29, 96, 285, 142 };
        var inputs = new Dictionary<string, HostTensor>
        {
            [LlamaGraphBuilder.TokensInput] = HostTensor.I32([ids.Length], ids),
            [LlamaGraphBuilder.PositionsInput] = HostTensor.I32([ids.Length], Enumerable.Range(0, ids.Length).ToArray()),
        };
        var whole = new ReferenceInterpreter(m.Graph, m.Weights).Run(inputs, new KvCache())[LlamaGraphBuilder.LogitsOutput].Floats.ToArray();

        var env = new Dictionary<string, HostTensor>(inputs);
        var cache = new KvCache();
        foreach (var s in plan.Segments)
        {
            var outputs = new ReferenceInterpreter(s.Graph, m.Weights).Run(s.Graph.Inputs.ToDictionary(v => v.Name, v => env[v.Name]), cache);
            foreach (var input in s.Graph.Inputs)
                if (plan.LastReader[input.Name] == s.Index) env.Remove(input.Name);
            foreach (var (name, t) in outputs) env[name] = t;
        }
        Assert.That(env[LlamaGraphBuilder.LogitsOutput].Floats.ToArray(), Is.EqualTo(whole));
        Assert.That(env.Keys, Is.EquivalentTo(new[] { LlamaGraphBuilder.LogitsOutput }), "every crossing value is dropped after its last reader");
    }

    [Test]
    public void The_cost_model_puts_weight_streaming_ops_on_the_fast_memory_device_when_the_link_is_cheap()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var host = new DeviceProfile("cpu", MemoryBytesPerSecond: 20e9, FlopsPerSecond: 200e9, LaunchSeconds: 2e-6);
        // Fast memory, but every launch is dear: only ops with many weight bytes pay for it.
        var accelerator = new DeviceProfile("gpu", MemoryBytesPerSecond: 2e12, FlopsPerSecond: 50e12, LaunchSeconds: 5e-6, LinkBytesPerSecond: 1e12, LinkLatencySeconds: 0);
        var placed = CostModelPlacer.Place(m.Graph, m.Weights, [host, accelerator]);
        var byClass = m.Graph.Nodes.Select((n, i) => (Class: OpClasses.Of(n.Op), Device: placed.NodeDevices[i])).ToLookup(x => x.Class, x => x.Device);
        Assert.That(byClass["matmul"], Has.All.EqualTo("gpu"), placed.Summary());
        Assert.That(byClass["elementwise"], Has.All.EqualTo("cpu"), placed.Summary());
    }

    [Test]
    public void The_cost_model_keeps_everything_on_one_device_when_the_link_costs_more_than_it_saves()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var host = new DeviceProfile("cpu", 20e9, 200e9, 2e-6);
        var remote = new DeviceProfile("gpu", 2e12, 50e12, 5e-6, LinkBytesPerSecond: 1e9, LinkLatencySeconds: 1e-3);
        Assert.That(CostModelPlacer.Place(m.Graph, m.Weights, [host, remote]).Devices, Is.EqualTo(new[] { "cpu" }));
        // And a device better at everything with a free link takes the whole graph.
        var better = new DeviceProfile("gpu", 2e12, 50e12, 1e-6);
        Assert.That(CostModelPlacer.Place(m.Graph, m.Weights, [host, better]).Devices, Is.EqualTo(new[] { "gpu" }));
    }

    private static int RandomTensorsSeed() => TestContext.CurrentContext.Random.Next();

    /// <summary>A placement with runs of random lengths on random devices, so every boundary kind occurs.</summary>
    private static DevicePlacement RandomPlacement(Graph graph, int seed)
    {
        var r = new Random(seed);
        var devices = new string[graph.Nodes.Count];
        string current = Devices[r.Next(Devices.Length)];
        for (int i = 0; i < devices.Length; i++)
        {
            if (r.Next(4) == 0) current = Devices[r.Next(Devices.Length)];
            devices[i] = current;
        }
        return new DevicePlacement(graph, devices);
    }
}
