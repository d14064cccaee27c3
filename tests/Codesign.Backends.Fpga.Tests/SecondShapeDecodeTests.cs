using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// A model of another shape than tiny-llama-a, made here with random weights: multi-head attention (as many kv heads as
/// heads), tied embeddings (the logits matrix is the embedding table), every weight stored as bf16 (the table widened to
/// f32 in the memory image), a hidden size that is not a power of two (80) and an MLP of 224. Compressed W4A8 in groups of
/// 16 on its layers, it decodes on the Verilated accelerator with 2 and 4 matrix cores: the functional model's logits bit
/// for bit, the interpreter's greedy tokens, every step within 2 % of the performance model.
/// </summary>
[Category("Verilator")]
public class SecondShapeDecodeTests : RequiresVerilator
{
    private static readonly LlamaConfig Config = new()
    {
        ModelType = "llama", HiddenSize = 80, IntermediateSize = 224, NumLayers = 2, NumHeads = 5, NumKvHeads = 5, HeadDim = 16, VocabSize = 97,
        RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = true, MaxPositionEmbeddings = 64,
    };

    private const string Recipe = """{ "name": "W4A8 g16 on the layers", "layers": [ { "match": "model.layers.*", "quant": { "bits": 4, "group": 16, "symmetric": false, "act_bits": 8 } } ] }""";

    /// <summary>Random bf16 weights scaled so activations stay O(1); the norms' weights near 1.</summary>
    private static (Graph Graph, IWeightStore Store) Model(int seed)
    {
        var r = new Random(seed);
        var store = new LayeredWeightStore();
        void Add(string key, params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, d) => a * d);
            bool norm = shape.Length == 1;
            double scale = norm ? 0.2 : 1.7 / Math.Sqrt(shape[^1]);
            var values = Enumerable.Range(0, (int)n).Select(_ => (float)((norm ? 1 : 0) + (r.NextDouble() * 2 - 1) * scale)).ToArray();
            var bytes = new byte[n * 2];
            for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), FloatConversion.SingleToBFloat16(values[i]));
            store.Set(new WeightTensor(key, DType.BF16, shape, bytes));
        }
        var c = Config;
        Add("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Add(p + "input_layernorm.weight", c.HiddenSize);
            foreach (var name in new[] { "q_proj", "k_proj", "v_proj" }) Add(p + "self_attn." + name + ".weight", c.NumHeads * c.HeadDim, c.HiddenSize);
            Add(p + "self_attn.o_proj.weight", c.HiddenSize, c.NumHeads * c.HeadDim);
            Add(p + "post_attention_layernorm.weight", c.HiddenSize);
            Add(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize);
            Add(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize);
        }
        Add("model.norm.weight", c.HiddenSize);
        var graph = LlamaGraphBuilder.Build("second_shape", c, store, "random");
        var compressed = RecipePipeline.Apply(graph, store, RecipeLoader.Parse(Recipe, "second-shape.json"), null);
        return (graph, compressed);
    }

    [TestCase(2, 16), TestCase(4, 32)]
    public void A_tied_bf16_mha_model_of_hidden_80_decodes_on_the_cores_with_the_interpreters_tokens(int cores, int beat)
    {
        int seed = TestContext.CurrentContext.Random.Next();
        var (graph, store) = Model(seed);
        Assert.That(graph.Weights.Where(w => w.Type.DType == DType.BF16).Select(w => w.WeightKey), Does.Contain("model.embed_tokens.weight"), "the tied table stays bf16");
        var model = FpgaCompilation.Compile(graph, store, maxContext: 32, chunkTokens: 4, shape: new AcceleratorShape(cores, beat));
        Assert.That(model.Plan.Cores.Nodes.Count(), Is.EqualTo(2 * 7), "every layer's seven matrices are on the cores");
        var r = new Random(seed);
        var prompt = Enumerable.Range(0, 9).Select(_ => r.Next(Config.VocabSize)).ToArray();
        var (fpgaTokens, referenceTokens, _, _) = DecodeOnTheRtl.Run(model, prompt, chunk: 4, generate: 6, $"seed {seed}, ");
        Assert.That(fpgaTokens, Is.EqualTo(referenceTokens), $"seed {seed}");
    }
}
