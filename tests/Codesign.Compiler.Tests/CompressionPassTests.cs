using Codesign.Compiler.Calibration;
using Codesign.Compiler.Quantization;
using Codesign.Compiler.Recipes;
using Codesign.Compiler.Sparsity;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Tests;

public class CompressionPassTests
{
    private static float[] Random(Random rng, int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [TestCase(4, 32, true)]
    [TestCase(3, 64, false)]
    [TestCase(8, 0, true)]
    [TestCase(2, 16, false)]
    public void Round_to_nearest_error_is_at_most_half_a_step_inside_the_range(int bits, int group, bool symmetric)
    {
        int seed = System.Random.Shared.Next();
        var rng = new Random(seed);
        int rows = 7, cols = 101;
        var w = Random(rng, rows * cols);
        var scheme = QuantScheme.Create(bits, group, symmetric, DType.F32);
        var q = GroupwiseQuantizer.Quantize(w, rows, cols, scheme);
        var dense = q.ToDense();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                float scale = q.Scale(r, c / q.GroupLength), step = Math.Abs(scale);
                double ideal = w[r * cols + c] / scale + q.Zero(r, c / q.GroupLength);
                // Symmetric schemes give the side opposite the largest magnitude one level less: a full step there.
                double bound = ideal >= -0.5 && ideal <= scheme.MaxCode + 0.5 ? step / 2 : step;
                Assert.That(Math.Abs(dense[r * cols + c] - w[r * cols + c]), Is.LessThanOrEqualTo(bound * 1.0001 + 1e-7), $"seed {seed}");
            }
    }

    [Test]
    public void Ternary_uses_the_absmean_scale_and_three_levels()
    {
        var q = GroupwiseQuantizer.Quantize([0.9f, -0.1f, -1.1f, 0.3f], 1, 4, QuantScheme.Create(2, 0, true, DType.F32, ternary: true));
        Assert.That(q.Scale(0, 0), Is.EqualTo(0.6f).Within(1e-6));
        Assert.That(q.Codes, Is.EqualTo(new byte[] { 2, 1, 0, 1 }));
    }

    [Test]
    public void Gptq_gives_a_smaller_output_error_than_round_to_nearest_on_correlated_inputs()
    {
        int seed = System.Random.Shared.Next();
        var rng = new Random(seed);
        int rows = 24, cols = 96, samples = 400;
        var w = Random(rng, rows * cols);
        // Inputs with correlated channels and a few large ones, as real activations have.
        var basis = Random(rng, 8 * cols);
        var x = new float[samples * cols];
        for (int s = 0; s < samples; s++)
        {
            var z = Random(rng, 8);
            for (int c = 0; c < cols; c++)
            {
                double v = 0.1 * (rng.NextDouble() - 0.5);
                for (int j = 0; j < 8; j++) v += z[j] * basis[j * cols + c];
                x[s * cols + c] = (float)(v * (c % 17 == 0 ? 5 : 1));
            }
        }
        var stats = new InputStatistics(cols, withHessian: true, sampleCapacity: 0);
        stats.Add(x, samples);
        var scheme = QuantScheme.Create(3, 32, false, DType.F16);
        double Error(float[] dq)
        {
            var a = MatMulKernel.Linear(x, w, samples, rows, cols);
            var b = MatMulKernel.Linear(x, dq, samples, rows, cols);
            return a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Sum();
        }
        double rtn = Error(GroupwiseQuantizer.Quantize(w, rows, cols, scheme).ToDense());
        double gptq = Error(GptqQuantizer.Quantize(w, rows, cols, scheme, stats.Hessian!, new GptqQuantizer.Options()).ToDense());
        double ordered = Error(GptqQuantizer.Quantize(w, rows, cols, scheme, stats.Hessian!, new GptqQuantizer.Options(ActOrder: true)).ToDense());
        Assert.That(gptq, Is.LessThan(rtn * 0.9), $"seed {seed}");
        Assert.That(ordered, Is.LessThan(rtn * 0.9), $"seed {seed}");
    }

    [Test]
    public void N_of_m_pruning_keeps_the_largest_scores_in_each_group_and_wanda_weighs_by_input_norm()
    {
        float[] w = [0.1f, -0.5f, 0.3f, 0.2f, 1f, 0.9f, -0.8f, 0.7f];
        var magnitude = Pruner.Mask(w, 1, 8, SparseFormat.NOfM(2, 4), 0.5, null);
        Assert.That(magnitude, Is.EqualTo(new[] { false, true, true, false, true, true, false, false }));
        var wanda = Pruner.Mask(w, 1, 8, SparseFormat.NOfM(2, 4), 0.5, [10, 1, 1, 1, 1, 1, 1, 10]);
        Assert.That(wanda, Is.EqualTo(new[] { true, true, false, false, true, false, false, true }));
    }

    [Test]
    public void Block_and_unstructured_pruning_remove_the_requested_fraction()
    {
        var rng = new Random(3);
        var w = Random(rng, 16 * 24);
        var block = Pruner.Mask(w, 16, 24, SparseFormat.Block(4, 4), 0.5, null);
        Assert.That(block.Count(k => k), Is.EqualTo(16 * 24 / 2));
        new IR.Sparsity.SparseStructure(SparseFormat.Block(4, 4), 16, 24).CheckMask(block);
        var unstructured = Pruner.Mask(w, 16, 24, SparseFormat.Unstructured, 0.75, null);
        for (int r = 0; r < 16; r++) Assert.That(unstructured.Skip(r * 24).Take(24).Count(k => k), Is.EqualTo(6));
    }

    [TestCase("{\"layers\": [{\"match\": \"*\", \"quant\": {\"bits\": 9}}]}", "layers[0].quant")]
    [TestCase("{\"layers\": [{\"match\": \"*\", \"quant\": {\"method\": \"hqq\"}}]}", "layers[0].quant.method")]
    [TestCase("{\"layers\": [{\"match\": \"*\", \"sparsity\": {\"pattern\": \"5:4\"}}]}", "layers[0].sparsity.pattern")]
    [TestCase("{\"layers\": [{\"match\": \"*\", \"keep\": \"f8\"}]}", "layers[0].keep")]
    [TestCase("{\"layers\": [{\"match\": \"*\"}]}", "neither keep")]
    [TestCase("{\"layers\": [], \"kv_cache\": {\"bits\": 3}}", "kv_cache.bits")]
    [TestCase("{\"layers\": [], \"kv_cache\": {\"bits\": 8, \"act_bits\": 4}}", "kv_cache.act_bits")]
    [TestCase("{\"layerz\": []}", "layerz")]
    [TestCase("{\"layers\": [", "invalid recipe JSON")]
    public void Bad_recipes_name_the_field_that_is_wrong(string json, string expected)
    {
        Assert.That(() => RecipeLoader.Parse(json, "r.json"), Throws.TypeOf<RecipeException>().With.Message.Contains("r.json").And.Message.Contains(expected));
    }

    /// <summary>A tied model's logits matrix is the embedding table; to a recipe it is lm_head, as on an untied model.</summary>
    [TestCase("""{ "layers": [ { "match": "lm_head", "keep": "f32" }, { "match": "*", "quant": { "bits": 4, "group": 16 } } ] }""", false)]
    [TestCase("""{ "layers": [ { "match": "lm_head", "quant": { "bits": 8, "group": 0 } } ] }""", true)]
    public void A_tied_logits_matrix_is_lm_head_to_a_recipe(string recipe, bool quantized)
    {
        var config = new Frontends.HuggingFace.LlamaConfig
        {
            ModelType = "llama", HiddenSize = 32, IntermediateSize = 64, NumLayers = 1, NumHeads = 2, NumKvHeads = 2, HeadDim = 16, VocabSize = 50,
            RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = true, MaxPositionEmbeddings = 64,
        };
        var store = new LayeredWeightStore();
        var r = new Random(1);
        void F(string key, params long[] shape) => store.Set(WeightTensor.FromFloats(key, DType.F32, shape,
            Enumerable.Range(0, (int)shape.Aggregate(1L, (a, d) => a * d)).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray()));
        F("model.embed_tokens.weight", 50, 32);
        F("model.norm.weight", 32);
        F("model.layers.0.input_layernorm.weight", 32);
        F("model.layers.0.post_attention_layernorm.weight", 32);
        foreach (var name in new[] { "q_proj", "k_proj", "v_proj", "o_proj" }) F($"model.layers.0.self_attn.{name}.weight", 32, 32);
        F("model.layers.0.mlp.gate_proj.weight", 64, 32);
        F("model.layers.0.mlp.up_proj.weight", 64, 32);
        F("model.layers.0.mlp.down_proj.weight", 32, 64);
        var graph = Frontends.HuggingFace.LlamaGraphBuilder.Build("tied", config, store, "memory");
        var log = new List<string>();
        RecipePipeline.Apply(graph, store, RecipeLoader.Parse(recipe, "r.json"), null, log.Add);
        Assert.That(log, Has.None.Contain("matches no linear layer"));
        var logits = graph.Nodes.Single(n => n.Outputs[0].Name == "logits");
        Assert.That(logits.Op is IR.Ops.QMatMulOp, Is.EqualTo(quantized), IR.Text.GraphPrinter.Print(graph));
        var embedding = graph.Nodes.Single(n => n.Op is IR.Ops.EmbeddingOp);
        Assert.That(embedding.Inputs[1].Type.DType, Is.EqualTo(DType.F32), "the embedding still gathers the float table");
    }

    [Test]
    public void A_kv_cache_with_act_bits_makes_every_attention_integer()
    {
        using var m = Frontends.ModelLoader.Load(Codesign.Testing.TestPaths.TinyLlama);
        RecipePipeline.Apply(m.Graph, m.Weights, RecipeLoader.Parse("{\"layers\": [], \"kv_cache\": {\"bits\": 8, \"act_bits\": 8}}", "r.json"), null);
        var attention = m.Graph.Nodes.Where(n => n.Op is IR.Ops.AttentionOp).Select(n => (IR.Ops.AttentionOp)n.Op).ToList();
        Assert.That(attention.Select(a => (a.KvBits, a.ActBits)), Is.EqualTo(Enumerable.Repeat((8L, 8L), 4)));
        Assert.That(IR.Text.GraphPrinter.Print(m.Graph), Does.Contain("kv_bits = 8, act_bits = 8"));
    }

    [Test]
    public void Pruning_with_quantized_activations_gives_integer_spmatmul_on_every_pruned_layer()
    {
        using var m = Frontends.ModelLoader.Load(Codesign.Testing.TestPaths.TinyLlama);
        RecipePipeline.Apply(m.Graph, m.Weights, RecipeLoader.Load(Codesign.Testing.TestPaths.ExampleRecipe("fpga-w4a8-sparse24")), null);
        var linear = m.Graph.Nodes.Where(n => n.Op is IR.Ops.SpMatMulOp or IR.Ops.QMatMulOp or IR.Ops.MatMulOp).ToList();
        Assert.That(linear.Where(n => n.Op is IR.Ops.SpMatMulOp).Select(n => ((IR.Ops.SpMatMulOp)n.Op).ActBits).ToList(), Has.Count.EqualTo(linear.Count - 1).And.All.EqualTo(8));
        Assert.That(linear.Where(n => n.Op is IR.Ops.MatMulOp).Select(n => n.Inputs[1].Type.DType), Is.EqualTo(new[] { DType.F32 }), "lm_head stays f32");
        Assert.That(linear.Where(n => n.Op is IR.Ops.SpMatMulOp).Select(n => n.Inputs[1].Type.DType.ToString()).Distinct(), Is.EqualTo(new[] { "sparse<nm_2_4, quant<int4, g128, asym, f16, lsb>>" }));
    }

    [TestCase("*.mlp.down_proj", "model.layers.3.mlp.down_proj", true)]
    [TestCase("*.mlp.down_proj", "model.layers.3.mlp.up_proj", false)]
    [TestCase("model.layers.?.self_attn.*", "model.layers.1.self_attn.q_proj", true)]
    [TestCase("lm_head", "model.lm_head", false)]
    public void Layer_patterns_are_whole_name_globs(string pattern, string layer, bool matches) =>
        Assert.That(LayerPattern.Matches(pattern, layer), Is.EqualTo(matches));
}
