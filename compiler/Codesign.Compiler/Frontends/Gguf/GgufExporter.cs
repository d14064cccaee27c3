using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>
/// Writes a LLaMA graph and its weights as a GGUF v3 file llama.cpp loads: llama.* hyperparameters, the
/// tokenizer.ggml.* vocabulary, llama.cpp tensor names with q/k rows in its RoPE order, and each weight in the
/// ggml type that holds it exactly (F32, F16, BF16, Q8_0, Q4_0, Q5_0, TQ2_0). A weight with no exact ggml
/// type (other group sizes, asymmetric, sparse) is an error unless <c>fallbackF32</c> asks to dequantize it.
/// </summary>
public static class GgufExporter
{
    public static void Export(Graph graph, IWeightStore weights, string path, GgufVocabulary? vocabulary, bool fallbackF32 = false)
    {
        long Attr(string name) => graph.GetAttribute(name) as long? ?? throw new ModelFormatException(path, $"the graph has no '{name}' attribute: only imported LLaMA graphs export to GGUF");
        int heads = (int)Attr("num_heads"), kvHeads = (int)Attr("num_kv_heads"), headDim = (int)Attr("head_dim");
        var norm = graph.Nodes.Select(n => n.Op).OfType<RmsNormOp>().First();
        var rope = graph.Nodes.Select(n => n.Op).OfType<RopeOp>().First();
        var ffn = graph.Weights.First(w => w.WeightKey!.EndsWith("mlp.up_proj.weight", StringComparison.Ordinal));
        var metadata = new List<KeyValuePair<string, object>>
        {
            new("general.architecture", "llama"),
            new("general.name", graph.Name),
            new("general.quantization_version", 2u),
            new("general.alignment", 32u),
            new("llama.context_length", (uint)Attr("max_position_embeddings")),
            new("llama.embedding_length", (uint)Attr("hidden_size")),
            new("llama.block_count", (uint)Attr("num_layers")),
            new("llama.feed_forward_length", (uint)ffn.Type[0].Size),
            new("llama.rope.dimension_count", (uint)headDim),
            new("llama.attention.head_count", (uint)heads),
            new("llama.attention.head_count_kv", (uint)kvHeads),
            new("llama.attention.key_length", (uint)headDim),
            new("llama.attention.value_length", (uint)headDim),
            new("llama.attention.layer_norm_rms_epsilon", (float)norm.Eps),
            new("llama.rope.freq_base", (float)rope.Theta),
            new("llama.vocab_size", (uint)Attr("vocab_size")),
        };
        vocabulary?.WriteTo(metadata);
        var tensors = new List<GgufTensor>();
        var types = new List<GgmlType>();
        foreach (var w in graph.Weights)
        {
            string key = w.WeightKey!;
            string name = GgufLlamaNames.ToGguf(key) ?? throw new ModelFormatException(path, "has no llama.cpp tensor name", key);
            var (type, data) = Encode(weights.Get(key), fallbackF32, path);
            int rows = w.Type.Rank == 2 ? (int)w.Type[0].Size : 1;
            data = GgufLlamaNames.ReorderRopeRows(key, data, rows, heads, kvHeads, toHuggingFace: false);
            tensors.Add(new GgufTensor(name, w.Type.Shape.Select(d => d.Size).Reverse().ToArray(), type, data));
            if (w.Type.Rank == 2) types.Add(type);
        }
        metadata.Insert(3, new("general.file_type", (uint)FileType(types)));
        GgufWriter.Write(path, metadata, tensors);
    }

    private static (GgmlType, ReadOnlyMemory<byte>) Encode(WeightTensor t, bool fallbackF32, string path)
    {
        switch (t.DType.Kind)
        {
            case DTypeKind.F32: return (GgmlType.F32, t.Data);
            case DTypeKind.F16: return (GgmlType.F16, t.Data);
            case DTypeKind.BF16: return (GgmlType.BF16, t.Data);
        }
        var matrix = PackedWeightCodec.Decode(t);
        if (matrix is QuantizedMatrix q && GgmlBlockCodec.TypeOf(q.Scheme) is { } type && q.Cols % GgmlTypeInfo.Of(type).BlockSize == 0)
            return (type, GgmlBlockCodec.FromQuantized(type, q));
        if (!fallbackF32)
            throw new ModelFormatException(path, $"{t.DType} has no exact ggml type (Q8_0/Q4_0/Q5_0 are int8/int4/int5 g32 sym f16, TQ2_0 ternary g256 f16); export with the f32 fallback to dequantize it", t.Key);
        return (GgmlType.F32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(matrix.ToDense().AsSpan()).ToArray());
    }

    /// <summary>llama_ftype of the most common matrix type, as llama.cpp's quantize tool reports it.</summary>
    private static int FileType(List<GgmlType> types) =>
        types.GroupBy(t => t).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() switch
        {
            GgmlType.F16 => 1,
            GgmlType.Q4_0 => 2,
            GgmlType.Q8_0 => 7,
            GgmlType.Q5_0 => 8,
            GgmlType.BF16 => 32,
            GgmlType.TQ2_0 => 37,
            _ => 0,
        };
}
