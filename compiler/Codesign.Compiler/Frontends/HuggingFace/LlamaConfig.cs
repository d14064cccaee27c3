using System.Text.Json;

namespace Codesign.Compiler.Frontends.HuggingFace;

/// <summary>
/// The fields of a Hugging Face LLaMA-family <c>config.json</c> that fix the graph. Reads both
/// <c>rope_theta</c> and the newer <c>rope_parameters: {rope_theta, rope_type}</c> form.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>model_type values whose decoder is the LLaMA one (pre-norm, RMSNorm, RoPE, SwiGLU, no biases).</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["llama", "mistral"];

    public required string ModelType { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    public static LlamaConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
        return Parse(text, path);
    }

    public static LlamaConfig Parse(string json, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON: {e.Message}", inner: e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, "config is not a JSON object");
            var r = new Reader(root, path);

            string modelType = r.String("model_type");
            if (!SupportedModelTypes.Contains(modelType))
                throw new ModelFormatException(path, $"unsupported model_type '{modelType}': Codesign imports the LLaMA family ({string.Join(", ", SupportedModelTypes)})");
            string act = r.OptionalString("hidden_act") ?? "silu";
            if (act != "silu")
                throw new ModelFormatException(path, $"hidden_act '{act}' is not supported (LLaMA uses silu)");
            if (r.OptionalBool("attention_bias") == true || r.OptionalBool("mlp_bias") == true)
                throw new ModelFormatException(path, "attention_bias / mlp_bias are not supported (LLaMA has no biases)");
            if (root.TryGetProperty("sliding_window", out var sw) && sw.ValueKind != JsonValueKind.Null)
                throw new ModelFormatException(path, "sliding_window attention is not supported");

            int hidden = r.PositiveInt("hidden_size");
            int heads = r.PositiveInt("num_attention_heads");
            int kvHeads = r.OptionalPositiveInt("num_key_value_heads") ?? heads;
            if (heads % kvHeads != 0)
                throw new ModelFormatException(path, $"num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kvHeads})");
            int headDim = r.OptionalPositiveInt("head_dim") ?? (hidden % heads == 0
                ? hidden / heads
                : throw new ModelFormatException(path, $"hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads}) and head_dim is not given"));
            if (headDim % 2 != 0)
                throw new ModelFormatException(path, $"head_dim ({headDim}) must be even for rotary embeddings");

            return new LlamaConfig
            {
                ModelType = modelType,
                HiddenSize = hidden,
                IntermediateSize = r.PositiveInt("intermediate_size"),
                NumLayers = r.PositiveInt("num_hidden_layers"),
                NumHeads = heads,
                NumKvHeads = kvHeads,
                HeadDim = headDim,
                VocabSize = r.PositiveInt("vocab_size"),
                RmsNormEps = r.OptionalPositiveDouble("rms_norm_eps") ?? 1e-6,
                RopeTheta = ReadRopeTheta(root, r, path),
                TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
                MaxPositionEmbeddings = r.OptionalPositiveInt("max_position_embeddings") ?? 2048,
                BosTokenId = r.OptionalTokenId("bos_token_id"),
                EosTokenId = r.OptionalTokenId("eos_token_id"),
            };
        }
    }

    private static double ReadRopeTheta(JsonElement root, Reader r, string path)
    {
        if (root.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind == JsonValueKind.Object)
        {
            var inner = new Reader(rp, path, "rope_parameters.");
            string type = inner.OptionalString("rope_type") ?? "default";
            if (type != "default")
                throw new ModelFormatException(path, $"rope_parameters.rope_type '{type}' is not supported (only 'default')");
            return inner.OptionalPositiveDouble("rope_theta") ?? r.OptionalPositiveDouble("rope_theta") ?? 10000.0;
        }
        if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            var scaling = new Reader(rs, path, "rope_scaling.");
            string type = scaling.OptionalString("rope_type") ?? scaling.OptionalString("type") ?? "default";
            if (type != "default")
                throw new ModelFormatException(path, $"rope_scaling type '{type}' is not supported (only 'default')");
        }
        return r.OptionalPositiveDouble("rope_theta") ?? 10000.0;
    }

    /// <summary>Typed access to config fields with errors that name the field.</summary>
    private readonly struct Reader(JsonElement obj, string path, string prefix = "")
    {
        public string String(string name) => OptionalString(name) ?? throw Missing(name, "a string");

        public string? OptionalString(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string", v);
        }

        public int PositiveInt(string name) => OptionalPositiveInt(name) ?? throw Missing(name, "a positive integer");

        public int? OptionalPositiveInt(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i > 0 ? i : throw Wrong(name, "a positive integer", v);
        }

        public int? OptionalTokenId(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.Array) return v.GetArrayLength() > 0 && v[0].TryGetInt32(out int first) && first >= 0 ? first : null;
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0 ? i : throw Wrong(name, "a token id", v);
        }

        public double? OptionalPositiveDouble(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.Number && v.GetDouble() is var d && d > 0 && double.IsFinite(d) ? d : throw Wrong(name, "a positive number", v);
        }

        public bool? OptionalBool(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(name, "true or false", v),
            };
        }

        private ModelFormatException Missing(string name, string what) =>
            new(path, $"missing field '{prefix}{name}' ({what})");

        private ModelFormatException Wrong(string name, string what, JsonElement v) =>
            new(path, $"field '{prefix}{name}' must be {what}, found {v.GetRawText()}");
    }
}
