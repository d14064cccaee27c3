using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.HuggingFace;

/// <summary>
/// Builds the decoder graph of a LLaMA-family model from its config, with weights named by their
/// checkpoint keys. Inputs: <c>%tokens</c> and <c>%positions</c> ([seq] i32); output: <c>%logits</c>
/// ([seq, vocab] f32). One graph serves prefill and decode: attention keeps the KV cache.
/// </summary>
public static class LlamaGraphBuilder
{
    public const string TokensInput = "tokens";
    public const string PositionsInput = "positions";
    public const string LogitsOutput = "logits";

    public static Graph Build(string name, LlamaConfig c, IWeightStore weights, string source)
    {
        var b = new GraphBuilder(name);
        var g = b.Graph;
        g.SetAttribute("model_type", c.ModelType);
        g.SetAttribute("vocab_size", (long)c.VocabSize);
        g.SetAttribute("hidden_size", (long)c.HiddenSize);
        g.SetAttribute("num_layers", (long)c.NumLayers);
        g.SetAttribute("num_heads", (long)c.NumHeads);
        g.SetAttribute("num_kv_heads", (long)c.NumKvHeads);
        g.SetAttribute("head_dim", (long)c.HeadDim);
        g.SetAttribute("max_position_embeddings", (long)c.MaxPositionEmbeddings);
        if (c.BosTokenId is { } bos) g.SetAttribute("bos_token_id", (long)bos);
        if (c.EosTokenId is { } eos) g.SetAttribute("eos_token_id", (long)eos);

        Dim seq = "seq";
        int qDim = c.NumHeads * c.HeadDim, kvDim = c.NumKvHeads * c.HeadDim;
        Value W(string key, params long[] shape) => Weight(b, weights, source, key, shape, linear: false);
        Value L(string key, params long[] shape) => Weight(b, weights, source, key, shape, linear: true);
        // Imported quantized layers (GGUF Q8_0, Q4_0 …) run as quant.qmatmul.
        Value Linear(Value x, Value w, string name) => w.Type.DType.IsFloat ? b.MatMul(x, w, name) : b.Apply(new QMatMulOp(), name, x, w);

        var tokens = b.Input(TokensInput, TensorType.Of(DType.I32, seq));
        var positions = b.Input(PositionsInput, TensorType.Of(DType.I32, seq));
        var embed = W("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
        var h = b.Embedding(tokens, embed, "embed");
        double scale = 1.0 / Math.Sqrt(c.HeadDim);

        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.", l = $"l{i}.";
            var x = b.RmsNorm(h, W(p + "input_layernorm.weight", c.HiddenSize), c.RmsNormEps, l + "attn_norm");
            var q = Linear(x, L(p + "self_attn.q_proj.weight", qDim, c.HiddenSize), l + "q");
            var k = Linear(x, L(p + "self_attn.k_proj.weight", kvDim, c.HiddenSize), l + "k");
            var v = Linear(x, L(p + "self_attn.v_proj.weight", kvDim, c.HiddenSize), l + "v");
            q = b.Rope(b.Reshape(q, [seq, c.NumHeads, c.HeadDim], l + "q_heads"), positions, c.RopeTheta, l + "q_rope");
            k = b.Rope(b.Reshape(k, [seq, c.NumKvHeads, c.HeadDim], l + "k_heads"), positions, c.RopeTheta, l + "k_rope");
            v = b.Reshape(v, [seq, c.NumKvHeads, c.HeadDim], l + "v_heads");
            var attn = b.Attention(q, k, v, i, scale, l + "attn");
            var o = Linear(b.Reshape(attn, [seq, qDim], l + "attn_flat"), L(p + "self_attn.o_proj.weight", c.HiddenSize, qDim), l + "o");
            h = b.Add(h, o, l + "resid_attn");

            x = b.RmsNorm(h, W(p + "post_attention_layernorm.weight", c.HiddenSize), c.RmsNormEps, l + "mlp_norm");
            var gate = Linear(x, L(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize), l + "gate");
            var up = Linear(x, L(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize), l + "up");
            var act = b.Mul(b.Silu(gate, l + "gate_silu"), up, l + "swiglu");
            var down = Linear(act, L(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize), l + "down");
            h = b.Add(h, down, l + "resid_mlp");
        }

        var final = b.RmsNorm(h, W("model.norm.weight", c.HiddenSize), c.RmsNormEps, "final_norm");
        var head = c.TieWordEmbeddings ? embed : L("lm_head.weight", c.VocabSize, c.HiddenSize);
        return b.Return(Linear(final, head, LogitsOutput));
    }

    /// <summary>Declares a weight, checking the checkpoint holds it with the shape the config implies and a float dtype (or quantized, for linear layers).</summary>
    private static Value Weight(GraphBuilder b, IWeightStore weights, string source, string key, long[] shape, bool linear)
    {
        if (b.Graph.FindValue(key) is { } existing) return existing;
        if (!weights.Contains(key))
            throw new ModelFormatException(source, $"missing from the checkpoint (expected shape [{string.Join(", ", shape)}])", key);
        var t = weights.Get(key);
        if (!t.Shape.SequenceEqual(shape))
            throw new ModelFormatException(source, $"shape [{string.Join(", ", t.Shape)}] does not match the config, which implies [{string.Join(", ", shape)}]", key);
        if (!t.DType.IsFloat && !(linear && t.DType.Kind == DTypeKind.Quantized))
            throw new ModelFormatException(source, $"dtype {t.DType} is not a float type{(linear ? " or a quantized one" : "")}", key);
        return b.Weight(key, TensorType.Of(t.DType, shape.Select(d => Dim.Of(d)).ToArray()));
    }
}
