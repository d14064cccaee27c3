using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Runtime.Scheduling;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>
/// Artifacts compiled with a placement: each segment compiled for its device into a folder of its own, the plan in the
/// manifest; loaded, they run the plan that was compiled and generate what the interpreter generates, and a manifest
/// whose schedule was edited is refused.
/// </summary>
public class PlacedArtifactTests : ScratchDirectoryTest
{
    private string Artifact => Path.Combine(Scratch, "placed");

    private ArtifactManifest Compile(ImportedModel m, IWeightStore store, string placement)
    {
        PartitionPlan plan;
        using (var devices = new SegmentDevices(0, _ => { }))
            plan = GraphPartitioner.Split(PartitionedSessions.Place(placement, m.Graph, store, ArtifactSchedule.Devices, devices));
        return ArtifactWriter.WritePlaced(m, store, plan, placement, Artifact);
    }

    [Test]
    public void Matmuls_compiled_for_the_gpu_and_the_rest_for_the_cpu_generate_the_interpreters_tokens_for_a_w4_model()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("w4g128-gptq"));
        var manifest = Compile(m, store, "matmul=gpu,*=cpu");

        Assert.That(manifest.Devices, Is.EqualTo(new ArtifactDevices(null)), "a placed artifact's code lies in its segments");
        var schedule = manifest.Schedule!;
        Assert.That(schedule.Segments.Select(s => s.Device).Distinct(), Is.EqualTo(new[] { "cpu", "gpu" }));
        Assert.That(schedule.Segments.All(s => (s.Device == "cpu") == (s.Code.Cpu is not null) && (s.Device == "gpu") == (s.Code.Gpu is not null)));
        Assert.That(schedule.Transfers.Where(t => t.From == "gpu").Select(t => t.To).Distinct(), Is.EqualTo(new[] { "cpu" }));
        Assert.That(manifest.Files.Keys, Has.Some.EndsWith("-cpu/kernels.so").And.Some.EndsWith("-gpu/weights.bin"));

        var artifact = CompiledArtifact.Open(Artifact);
        Assert.That((artifact.Placement, artifact.Devices), Is.EqualTo(("matmul=gpu,*=cpu", (IReadOnlyList<string>)["cpu", "gpu"])));
        using var placed = (PartitionedSession)artifact.OpenSession(notice: _ => { });
        Assert.That(placed.Plan.Segments.Select(s => s.Device), Is.EqualTo(schedule.Segments.Select(s => s.Device)));
        var ids = TinyLlamaFixture.Ids("prompt1.ids");
        var reference = new InterpreterSession(new ReferenceInterpreter(m.Graph, store));
        Assert.That(TextGenerator.Generate(placed, ids, 12, SamplingOptions.GreedyDecoding),
            Is.EqualTo(TextGenerator.Generate(reference, ids, 12, SamplingOptions.GreedyDecoding)));
        Assert.That(artifact.OpenBatched(), Is.Null, "a placed artifact serves one sequence at a time");
    }

    [Test]
    public void Attention_compiled_for_the_gpu_generates_transformers_tokens_from_the_artifact_alone()
    {
        using (var m = ModelLoader.Load(TestPaths.TinyLlama)) Compile(m, m.Weights, "attention=gpu,*=cpu");
        using var placed = (PartitionedSession)CompiledArtifact.Open(Artifact).OpenSession(notice: _ => { });
        var ids = TinyLlamaFixture.Ids("prompt0.ids");
        Assert.That(TextGenerator.Generate(placed, ids, 6, SamplingOptions.GreedyDecoding), Is.EqualTo(TinyLlamaFixture.Ids("prompt0.greedy").Take(6)));
    }

    [Test]
    public void A_placement_on_the_interpreter_cannot_be_compiled_and_a_placed_artifact_refuses_another_device()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        Assert.That(() => Compile(m, m.Weights, "matmul=cpu,*=interpreter"),
            Throws.TypeOf<CodesignException>().With.Message.Contain("unknown device 'interpreter'"));
        var plan = GraphPartitioner.Split(PlacementSpec.Parse("matmul=cpu,*=interpreter", PartitionedSessions.Devices).Place(m.Graph));
        Assert.That(() => ArtifactWriter.WritePlaced(m, m.Weights, plan, "matmul=cpu,*=interpreter", Artifact),
            Throws.TypeOf<CodesignException>().With.Message.Contain("carries code for cpu and gpu, not for 'interpreter'"));
        Assert.That(Directory.Exists(Artifact), Is.False, "nothing is written");

        Compile(m, m.Weights, "norm=gpu,*=cpu");
        Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession("cpu"),
            Throws.TypeOf<CodesignException>().With.Message.Contain("was compiled with --placement norm=gpu,*=cpu and runs as placed"));
    }

    [Test]
    public void A_schedule_that_is_not_the_split_of_its_graph_is_refused_naming_the_manifest()
    {
        using (var m = ModelLoader.Load(TestPaths.TinyLlama)) Compile(m, m.Weights, "norm=gpu,*=cpu");
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        string original = File.ReadAllText(manifestPath);

        void Expect(Action<JsonNode> edit, string message)
        {
            var json = JsonNode.Parse(original)!;
            edit(json["schedule"]!);
            File.WriteAllText(manifestPath, json.ToJsonString());
            Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(notice: _ => { }),
                Throws.TypeOf<CodesignException>().With.Message.Contain(message));
        }

        Expect(s => s["node_devices"]!.AsArray().RemoveAt(0), "the schedule places");
        Expect(s => s["node_devices"]![0] = "gpu", "are not the split of its node devices");
        Expect(s => s["node_devices"]![0] = "fpga", "names device 'fpga'");
        Expect(s => s["segments"]![1]!["graph_file"] = s["segments"]![3]!["graph_file"]!.GetValue<string>(), "segment 1 of the plan reads");
        Expect(s => s["segments"]![2]!["code"]!["cpu"] = null, "segment 2 on cpu carries no cpu code");
        File.WriteAllText(manifestPath, original);
        File.AppendAllText(Path.Combine(Artifact, "segments", "1-gpu", "graph.cir"), " ");
        Assert.That(() => CompiledArtifact.Open(Artifact), Throws.TypeOf<CodesignException>().With.Message.Contain("1-gpu/graph.cir: SHA-256"));
    }
}
