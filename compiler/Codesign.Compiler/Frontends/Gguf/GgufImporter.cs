using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>
/// Imports a LLaMA GGUF file: the llama.* metadata becomes a <see cref="LlamaConfig"/>, tensors get their
/// Hugging Face keys and [N, K] shapes, q/k rows are put back in Hugging Face's RoPE order, linear layers in
/// Q8_0/Q4_0/Q5_0/TQ1_0/TQ2_0 stay quantized (their codes re-packed into our layout, values unchanged), and
/// every other tensor is dequantized to f32 exactly as ggml does. The tokenizer.ggml.* vocabulary comes along
/// as <see cref="ImportedModel.Vocabulary"/>.
/// </summary>
public static class GgufImporter
{
    public static bool IsGgufFile(string path) =>
        File.Exists(path) && (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || StartsWithMagic(path));

    private static bool StartsWithMagic(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        return f.Read(head) == 4 && BitConverter.ToUInt32(head) == GgufFile.Magic;
    }

    public static ImportedModel Import(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            var config = ReadConfig(file);
            var store = new LayeredWeightStore();
            foreach (var t in file.Tensors)
            {
                string key = GgufLlamaNames.ToHuggingFace(t.Name) ?? throw new ModelFormatException(path, "is not a LLaMA tensor name", t.Name);
                store.Set(Convert(file, t, key, config));
            }
            var graph = LlamaGraphBuilder.Build(GraphName(file), config with { TieWordEmbeddings = !store.Contains("lm_head.weight") }, store, path);
            return new ImportedModel(graph, store, path, null, file) { Vocabulary = GgufVocabulary.Read(file) };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static string GraphName(GgufFile file)
    {
        string name = file.Metadata.GetValueOrDefault("general.name") as string ?? "gguf_model";
        var clean = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        return clean.Length > 0 && char.IsAsciiLetter(clean[0]) ? clean : "m_" + clean;
    }

    private static LlamaConfig ReadConfig(GgufFile file)
    {
        string arch = file.Metadata.GetValueOrDefault("general.architecture") as string
            ?? throw new ModelFormatException(file.Path, "general.architecture is missing");
        if (arch != "llama") throw new ModelFormatException(file.Path, $"architecture '{arch}' is not supported (llama)");
        long Int(string key, long? fallback = null) => file.Metadata.GetValueOrDefault(key) switch
        {
            long v when v > 0 && v <= int.MaxValue => v,
            null when fallback is { } f => f,
            var v => throw new ModelFormatException(file.Path, $"{key} must be a positive integer, found {v ?? "nothing"}"),
        };
        double Real(string key, double fallback) => file.Metadata.GetValueOrDefault(key) switch
        {
            double v when v > 0 => v,
            null => fallback,
            var v => throw new ModelFormatException(file.Path, $"{key} must be a positive number, found {v}"),
        };
        int hidden = (int)Int("llama.embedding_length"), heads = (int)Int("llama.attention.head_count");
        var embed = file.Contains("token_embd.weight") ? file.Tensor("token_embd.weight")
            : throw new ModelFormatException(file.Path, "missing", "token_embd.weight");
        int vocab = (int)(embed.Dims.Length == 2 ? embed.Dims[1] : throw new ModelFormatException(file.Path, "must be 2-D", embed.Name));
        return new LlamaConfig
        {
            ModelType = "llama",
            HiddenSize = hidden,
            IntermediateSize = (int)Int("llama.feed_forward_length"),
            NumLayers = (int)Int("llama.block_count"),
            NumHeads = heads,
            NumKvHeads = (int)Int("llama.attention.head_count_kv", heads),
            HeadDim = (int)Int("llama.attention.key_length", hidden / heads),
            VocabSize = vocab,
            RmsNormEps = Real("llama.attention.layer_norm_rms_epsilon", 1e-5),
            RopeTheta = Real("llama.rope.freq_base", 10000),
            TieWordEmbeddings = false,
            MaxPositionEmbeddings = (int)Int("llama.context_length"),
            BosTokenId = file.Metadata.GetValueOrDefault("tokenizer.ggml.bos_token_id") is long bos ? (int)bos : null,
            EosTokenId = file.Metadata.GetValueOrDefault("tokenizer.ggml.eos_token_id") is long eos ? (int)eos : null,
        };
    }

    private static WeightTensor Convert(GgufFile file, GgufTensorInfo t, string key, LlamaConfig config)
    {
        long[] shape = t.Dims.Reverse().ToArray();
        int rows = (int)(t.ElementCount / t.Dims[0]), cols = (int)t.Dims[0];
        var bytes = GgufLlamaNames.ReorderRopeRows(key, file.Bytes(t), rows, config.NumHeads, config.NumKvHeads, toHuggingFace: true);
        if (t.Type == GgmlType.F32) return new WeightTensor(key, DType.F32, shape, bytes);
        if (t.Type == GgmlType.F16) return new WeightTensor(key, DType.F16, shape, bytes);
        if (t.Type == GgmlType.BF16) return new WeightTensor(key, DType.BF16, shape, bytes);
        if (GgufLlamaNames.IsLinear(key) && shape.Length == 2 && GgmlBlockCodec.SchemeOf(t.Type) is not null
            && GgmlBlockCodec.ToQuantized(t.Type, bytes.Span, rows, cols) is { } q)
            return PackedWeightCodec.Encode(key, DType.Quantized(q.Scheme), q);
        var values = new float[t.ElementCount];
        try
        {
            GgmlDequantizer.Dequantize(t.Type, bytes.Span, values);
        }
        catch (NotSupportedException e)
        {
            throw new ModelFormatException(file.Path, $"{t.Type}: {e.Message} is not supported", t.Name);
        }
        return WeightTensor.FromFloats(key, DType.F32, shape, values);
    }
}
