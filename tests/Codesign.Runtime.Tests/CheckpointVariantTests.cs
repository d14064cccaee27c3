using Codesign.IR.Semantics;
using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>Checkpoints other than the fixture as shipped: converted dtypes, tied embeddings, shards, other shapes.</summary>
public class CheckpointVariantTests : ScratchDirectoryTest
{
    private static Dictionary<string, (long[] Shape, float[] Values)> FixtureWeights()
    {
        using var f = SafetensorsFile.Open(Path.Combine(TestPaths.TinyLlama, "model.safetensors"));
        return f.Entries.ToDictionary(e => e.Name, e => (e.Shape, f.ReadFloat32(e.Name)));
    }

    private static JsonObject FixtureConfig() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "config.json")))!.AsObject();

    private static float[] Logits(string dir, int[] ids)
    {
        using var model = ModelLoader.Load(dir);
        return new InterpreterSession(new ReferenceInterpreter(model.Graph, model.Weights)).Forward(ids);
    }

    private string Subdir(string name) => Directory.CreateDirectory(Path.Combine(Scratch, name)).FullName;

    /// <summary>
    /// A half-precision copy must compute exactly what f32 computes on the rounded weights (the only
    /// difference is the weights' rounding), and stay near transformers' f32 logits.
    /// </summary>
    [TestCase("F16", 0.05)]
    [TestCase("BF16", 0.5)]
    public void Half_precision_copies_import_and_differ_only_by_weight_rounding(string dtype, double toleranceVsReference)
    {
        var weights = FixtureWeights();
        string half = Subdir("half"), rounded = Subdir("rounded");
        CheckpointWriter.WriteConfig(half, FixtureConfig());
        CheckpointWriter.WriteWeights(half, weights, dtype);
        CheckpointWriter.WriteConfig(rounded, FixtureConfig());
        CheckpointWriter.WriteWeights(rounded, weights.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, CheckpointWriter.Round(kv.Value.Values, dtype))), "F32");

        var ids = TinyLlamaFixture.Ids("prompt0.ids");
        var halfLogits = Logits(half, ids);
        Assert.That(halfLogits, Is.EqualTo(Logits(rounded, ids)), "same math on the same (rounded) weights");

        var expected = TinyLlamaFixture.Reference.ReadFloat32("prompt0.logits");
        double maxDiff = halfLogits.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.That(maxDiff, Is.LessThan(toleranceVsReference), $"max |logit - transformers f32| for {dtype} weights");
        using var model = ModelLoader.Load(half);
        Assert.That(model.Graph.Weights.Select(w => w.Type.DType.Name).Distinct(), Is.EqualTo(new[] { dtype.ToLowerInvariant() }));
    }

    [Test]
    public void Tied_embeddings_compute_with_the_embedding_as_lm_head()
    {
        var weights = FixtureWeights();
        string tied = Subdir("tied"), untied = Subdir("untied");
        var tiedConfig = FixtureConfig();
        tiedConfig["tie_word_embeddings"] = true;
        CheckpointWriter.WriteConfig(tied, tiedConfig);
        CheckpointWriter.WriteWeights(tied, weights.Where(kv => kv.Key != "lm_head.weight").ToDictionary(), "F32");
        var copy = new Dictionary<string, (long[], float[])>(weights) { ["lm_head.weight"] = weights["model.embed_tokens.weight"] };
        CheckpointWriter.WriteConfig(untied, FixtureConfig());
        CheckpointWriter.WriteWeights(untied, copy, "F32");

        var ids = TinyLlamaFixture.Ids("prompt3.ids");
        Assert.That(Logits(tied, ids), Is.EqualTo(Logits(untied, ids)));
    }

    [Test]
    public void A_sharded_checkpoint_computes_what_the_single_file_does()
    {
        string sharded = Subdir("sharded");
        CheckpointWriter.WriteConfig(sharded, FixtureConfig());
        CheckpointWriter.WriteWeights(sharded, FixtureWeights(), "F32", shards: 3);
        Assert.That(Directory.GetFiles(sharded, "model-*.safetensors"), Has.Length.EqualTo(3));
        var ids = TinyLlamaFixture.Ids("prompt1.ids");
        Assert.That(Logits(sharded, ids), Is.EqualTo(Logits(TestPaths.TinyLlama, ids)));
    }

    /// <summary>Random models of other shapes against the naive f64 forward pass: MHA, GQA, MQA, odd sizes, tied.</summary>
    [TestCase(48, 6, 6, 8, 40, 2, 37, false, "llama")]
    [TestCase(40, 4, 2, 10, 72, 3, 53, true, "llama")]
    [TestCase(36, 3, 1, 14, 50, 1, 29, false, "mistral")]
    [TestCase(24, 2, 2, 16, 33, 2, 19, true, "llama")]
    public void Other_shapes_match_an_independent_forward_pass(int hidden, int heads, int kvHeads, int headDim, int ffn, int layers, int vocab, bool tied, string modelType)
    {
        var config = new JsonObject
        {
            ["model_type"] = modelType, ["hidden_size"] = hidden, ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads,
            ["head_dim"] = headDim, ["intermediate_size"] = ffn, ["num_hidden_layers"] = layers, ["vocab_size"] = vocab,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 5000.0, ["tie_word_embeddings"] = tied, ["max_position_embeddings"] = 64,
        };
        int seed = TestContext.CurrentContext.Random.Next();
        var weights = CheckpointWriter.RandomLlama(config, seed);
        string dir = Subdir("random");
        CheckpointWriter.WriteConfig(dir, config);
        CheckpointWriter.WriteWeights(dir, weights, "F32");

        var r = new Random(seed);
        var ids = Enumerable.Range(0, 11).Select(_ => r.Next(vocab)).ToArray();
        var expected = NaiveLlama.Forward(weights, layers, heads, kvHeads, headDim, 5000.0, 1e-6, tied, ids);
        using var model = ModelLoader.Load(dir);
        var session = new InterpreterSession(new ReferenceInterpreter(model.Graph, model.Weights));
        var prefill = session.Forward(ids[..7]);
        var decoded = ids[7..].SelectMany(id => session.Forward([id])).ToArray();
        var actual = prefill.Concat(decoded).ToArray();
        double maxDiff = 0, maxAbs = 0;
        for (int t = 0; t < ids.Length; t++)
            for (int v = 0; v < vocab; v++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(actual[t * vocab + v] - expected[t, v]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[t, v]));
            }
        Assert.That(maxDiff, Is.LessThan(1e-4 * Math.Max(1, maxAbs)), $"seed {seed}: max |difference| (largest logit {maxAbs:G3})");
    }

    [Test]
    public void Running_past_the_context_length_is_an_error_not_garbage()
    {
        using var model = ModelLoader.Load(TestPaths.TinyLlama);
        var session = new InterpreterSession(new ReferenceInterpreter(model.Graph, model.Weights));
        Assert.That(() => session.Forward(new int[513]), Throws.InstanceOf<IR.Diagnostics.CodesignException>().With.Message.Contain("512 positions"));
        Assert.That(() => session.Forward([5000]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contain("nn.embedding"));
    }
}
