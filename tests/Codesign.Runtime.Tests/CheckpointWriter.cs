using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Weights;

namespace Codesign.Runtime.Tests;

/// <summary>Writes LLaMA checkpoints for tests: converted copies of the fixture, and random models of any shape.</summary>
internal static class CheckpointWriter
{
    public static byte[] Encode(float[] values, string dtype) => dtype switch
    {
        "F32" => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
        "F16" => MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
        "BF16" => MemoryMarshal.AsBytes(values.Select(FloatConversion.SingleToBFloat16).ToArray().AsSpan()).ToArray(),
        _ => throw new ArgumentException(dtype),
    };

    /// <summary>The value each f32 weight has after storing it as <paramref name="dtype"/>.</summary>
    public static float[] Round(float[] values, string dtype) => dtype switch
    {
        "F32" => values,
        "F16" => values.Select(v => (float)(Half)v).ToArray(),
        "BF16" => values.Select(v => FloatConversion.BFloat16ToSingle(FloatConversion.SingleToBFloat16(v))).ToArray(),
        _ => throw new ArgumentException(dtype),
    };

    public static void WriteConfig(string dir, JsonObject config) =>
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());

    public static void WriteWeights(string dir, IReadOnlyDictionary<string, (long[] Shape, float[] Values)> weights, string dtype, int shards = 1)
    {
        var tensors = weights.Select(kv => new SafetensorsTensor(kv.Key, dtype, kv.Value.Shape, Encode(kv.Value.Values, dtype))).ToList();
        if (shards == 1)
        {
            SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
            return;
        }
        var map = new JsonObject();
        for (int s = 0; s < shards; s++)
        {
            string name = $"model-{s + 1:00000}-of-{shards:00000}.safetensors";
            var part = tensors.Where((_, i) => i % shards == s).ToList();
            SafetensorsWriter.Write(Path.Combine(dir, name), part);
            foreach (var t in part) map[t.Name] = name;
        }
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
    }

    /// <summary>Random weights for a LLaMA model described by the config, scaled so activations stay O(1).</summary>
    public static Dictionary<string, (long[] Shape, float[] Values)> RandomLlama(JsonObject c, int seed)
    {
        var r = new Random(seed);
        int hidden = (int)c["hidden_size"]!, ffn = (int)c["intermediate_size"]!, layers = (int)c["num_hidden_layers"]!;
        int heads = (int)c["num_attention_heads"]!, kv = (int)c["num_key_value_heads"]!, vocab = (int)c["vocab_size"]!;
        int hd = (int)c["head_dim"]!;
        var w = new Dictionary<string, (long[], float[])>();
        void Add(string name, params int[] shape)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            bool norm = shape.Length == 1;
            double scale = norm ? 0.2 : 1.0 / Math.Sqrt(shape[^1]);
            w[name] = (shape.Select(d => (long)d).ToArray(), Enumerable.Range(0, n).Select(_ => (float)((norm ? 1 : 0) + (r.NextDouble() * 2 - 1) * scale * (norm ? 1 : 1.7))).ToArray());
        }
        Add("model.embed_tokens.weight", vocab, hidden);
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.";
            Add(p + "input_layernorm.weight", hidden);
            Add(p + "self_attn.q_proj.weight", heads * hd, hidden);
            Add(p + "self_attn.k_proj.weight", kv * hd, hidden);
            Add(p + "self_attn.v_proj.weight", kv * hd, hidden);
            Add(p + "self_attn.o_proj.weight", hidden, heads * hd);
            Add(p + "post_attention_layernorm.weight", hidden);
            Add(p + "mlp.gate_proj.weight", ffn, hidden);
            Add(p + "mlp.up_proj.weight", ffn, hidden);
            Add(p + "mlp.down_proj.weight", hidden, ffn);
        }
        Add("model.norm.weight", hidden);
        if (!(bool)(c["tie_word_embeddings"] ?? false)) Add("lm_head.weight", vocab, hidden);
        return w;
    }
}
