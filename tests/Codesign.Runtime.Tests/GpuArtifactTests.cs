using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>gpu artifacts (graph, packed weights, kernel descriptions) run against the interpreter, and edited indices refused.</summary>
public class GpuArtifactTests : ScratchDirectoryTest
{
    private string Artifact => Path.Combine(Scratch, "artifact");

    private void Compile(string recipe)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        ArtifactWriter.WriteGpu(m, RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe)), Artifact, recipe);
    }

    [Test]
    public void A_gpu_artifact_generates_the_interpreters_tokens_for_its_graph()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("sparse24-wanda-w4g128-gptq"));
        ArtifactWriter.WriteGpu(m, store, Artifact);
        var artifact = CompiledArtifact.Open(Artifact);
        Assert.That(artifact.Devices, Is.EqualTo(new[] { "gpu" }));
        Assert.That(artifact.Manifest.Devices.Gpu!.Kernels, Has.Some.Contains("sparse.spmatmul").And.Some.Contains("N:M values + offsets"));
        var ids = TinyLlamaFixture.Ids("prompt1.ids");
        var session = artifact.OpenSession();
        try
        {
            var reference = new InterpreterSession(new ReferenceInterpreter(artifact.Graph, store));
            Assert.That(TextGenerator.Generate(session, ids, 16, SamplingOptions.GreedyDecoding), Is.EqualTo(TextGenerator.Generate(reference, ids, 16, SamplingOptions.GreedyDecoding)));
        }
        finally
        {
            ((IDisposable)session).Dispose();
        }
    }

    [Test]
    public void An_index_that_disagrees_with_the_graph_or_the_file_is_refused_naming_the_weight()
    {
        Compile("w4g128-rtn");
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        string original = File.ReadAllText(manifestPath);

        void Expect(Action<JsonArray> edit, params string[] message)
        {
            var json = JsonNode.Parse(original)!;
            edit(json["devices"]!["gpu"]!["weights"]!.AsArray());
            File.WriteAllText(manifestPath, json.ToJsonString());
            var constraint = Throws.InstanceOf<CodesignException>();
            var check = message.Skip(1).Aggregate(constraint.With.Message.Contain(message[0]), (c, m) => c.And.Message.Contain(m));
            Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(), check);
        }

        Expect(w => w[0]!["offset"] = 1L << 40, "weights.bin", "is not an aligned range");
        Expect(w => w[0]!["offset"] = w[0]!["offset"]!.GetValue<long>() + 1, "weights.bin", "is not an aligned range");
        Expect(w => w[0]!["bytes"] = w[0]!["bytes"]!.GetValue<long>() - 4, "weights.bin", "model.embed_tokens.weight", "but the index gives");
        Expect(w => w.RemoveAt(w.Count - 1), "weights.bin", "is not in the artifact");
        Expect(w => w.Add(w[0]!.DeepClone()), "weights.bin", "is listed twice");
        Expect(w => w[1]!["key"] = "no.such.weight", "weights.bin", "'no.such.weight' is not a weight of the graph");
        // A quantized weight's bytes shortened: the packed-format decoder names the size it needs.
        Expect(w => w.First(x => x!["key"]!.GetValue<string>().EndsWith("q_proj.weight", StringComparison.Ordinal))!["bytes"] = 64, "weight %model.layers.0.self_attn.q_proj.weight", "takes 34304 bytes, found 64");
    }
}
