using Codesign.Compiler.Frontends;
using Codesign.Compiler.Recipes;
using Codesign.IR.Semantics;
using Codesign.IR.Text;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Evaluation;
using Codesign.Runtime.Interpreter;
using Codesign.Runtime.Text;
using Codesign.Testing;
using Codesign.Compiler.Frontends.Gguf;

namespace Codesign.Runtime.Tests;

/// <summary>The compression acceptance bar on tiny-llama-a, with the recipes in examples/recipes.</summary>
[Parallelizable(ParallelScope.None)]
public class CompressionAccuracyTests : ScratchDirectoryTest
{
    private static readonly Dictionary<string, double> Cache = [];
    private static IReadOnlyList<int>? _evalIds;

    private static IReadOnlyList<int> EvalIds => _evalIds ??= TinyLlamaFixture.Ids("eval.ids");

    private static string Recipe(string name) => TestPaths.ExampleRecipe(name);

    private static double Perplexity(string? recipe)
    {
        string key = recipe ?? "f32";
        if (Cache.TryGetValue(key, out double p)) return p;
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = recipe is null ? m.Weights : RecipeRunner.Apply(m, Recipe(recipe));
        p = PerplexityEvaluator.Evaluate(new InterpreterSession(new ReferenceInterpreter(m.Graph, store)), EvalIds, 256).Perplexity;
        return Cache[key] = p;
    }

    [Test]
    public void W8_per_channel_rtn_is_within_half_a_percent_of_f32() =>
        Assert.That(Perplexity("w8-rtn"), Is.LessThan(Perplexity(null) * 1.005));

    [TestCase("w4g128")]
    [TestCase("w3g64")]
    public void Gptq_and_awq_beat_round_to_nearest(string setting)
    {
        double rtn = Perplexity(setting + "-rtn");
        Assert.Multiple(() =>
        {
            Assert.That(Perplexity(setting + "-gptq"), Is.LessThan(rtn), "GPTQ");
            Assert.That(Perplexity(setting + "-awq"), Is.LessThan(rtn), "AWQ");
        });
    }

    [Test]
    public void Wanda_beats_magnitude_pruning_at_two_of_four() =>
        Assert.That(Perplexity("sparse24-wanda"), Is.LessThan(Perplexity("sparse24-magnitude")));

    [TestCase("sparse24-wanda-w4g128-gptq", "sparse.spmatmul", "sparse<nm_2_4, quant<int4, g128, asym, f16, lsb>>")]
    [TestCase("w4a8-kv4-gptq", "quant.qmatmul", "{accumulate = \"group\", act_bits = 8}")]
    [TestCase("mixed-precision", "quant.qmatmul", "quant<int3, g64, asym, f16, lsb>")]
    public void The_printed_ir_after_a_recipe_shows_the_compressed_ops_and_parses_back(string recipe, string op, string detail)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        RecipeRunner.Apply(m, Recipe(recipe));
        string text = GraphPrinter.Print(m.Graph);
        Assert.That(text, Does.Contain(op).And.Contains(detail));
        if (recipe.StartsWith("w4a8", StringComparison.Ordinal)) Assert.That(text, Does.Contain("kv_bits = 4"));
        if (recipe == "mixed-precision") Assert.That(text, Does.Contain("\"lm_head.weight\" : tensor<[2048, 256], f16>"));
        Assert.That(GraphPrinter.Print(GraphParser.Parse(text)), Is.EqualTo(text));
    }

    [Test]
    public void An_exported_gguf_reimports_with_identical_graph_and_weights()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, Recipe("gguf-q4_0"));
        string path = Path.Combine(Scratch, "model.gguf");
        GgufExporter.Export(m.Graph, store, path, GgufVocabularies.FromSentencePiece(m.TokenizerPath!));
        using var back = ModelLoader.Load(path);
        Assert.That(GraphPrinter.Print(back.Graph), Is.EqualTo(GraphPrinter.Print(m.Graph)));
        foreach (var w in m.Graph.Weights)
        {
            var (a, b) = (store.Get(w.WeightKey!), back.Weights.Get(w.WeightKey!));
            Assert.That(b.DType, Is.EqualTo(a.DType), w.WeightKey);
            Assert.That(b.Data.ToArray(), Is.EqualTo(a.Data.ToArray()), w.WeightKey);
        }
        using var file = GgufFile.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(file.Metadata["general.architecture"], Is.EqualTo("llama"));
            Assert.That(file.Metadata["tokenizer.ggml.model"], Is.EqualTo("llama"));
            Assert.That(((object[])file.Metadata["tokenizer.ggml.tokens"]).Length, Is.EqualTo(2048));
            Assert.That(file.Tensor("blk.0.ffn_down.weight").Type, Is.EqualTo(GgmlType.Q4_0));
            Assert.That(file.Tensor("output.weight").Type, Is.EqualTo(GgmlType.Q8_0));
            Assert.That(file.Tensor("token_embd.weight").Dims, Is.EqualTo(new long[] { 256, 2048 }));
        });
    }

    [Test]
    public void Exporting_a_scheme_with_no_ggml_type_is_refused_unless_dequantized()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, Recipe("w4g128-rtn"));
        string path = Path.Combine(Scratch, "w4.gguf");
        Assert.That(() => GgufExporter.Export(m.Graph, store, path, null), Throws.TypeOf<ModelFormatException>().With.Message.Contains("no exact ggml type"));
        GgufExporter.Export(m.Graph, store, path, null, fallbackF32: true);
        using var back = ModelLoader.Load(path);
        var w = back.Weights.Get("model.layers.0.mlp.up_proj.weight");
        Assert.That(w.DType, Is.EqualTo(IR.Types.DType.F32));
    }
}
