namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>
/// A SentencePiece vocabulary as llama.cpp's tokenizer.ggml.* keys hold it (token types as SentencePiece
/// numbers them). <see cref="AddSpacePrefix"/> is SentencePiece's add_dummy_prefix.
/// </summary>
public sealed record GgufVocabulary(string[] Tokens, float[] Scores, int[] TokenTypes, int UnknownId, int BosId, int EosId, bool AddSpacePrefix = true)
{
    public void WriteTo(List<KeyValuePair<string, object>> metadata)
    {
        metadata.Add(new("tokenizer.ggml.model", "llama"));
        metadata.Add(new("tokenizer.ggml.tokens", Tokens));
        metadata.Add(new("tokenizer.ggml.scores", Scores));
        metadata.Add(new("tokenizer.ggml.token_type", TokenTypes));
        metadata.Add(new("tokenizer.ggml.bos_token_id", (uint)BosId));
        metadata.Add(new("tokenizer.ggml.eos_token_id", (uint)EosId));
        metadata.Add(new("tokenizer.ggml.unknown_token_id", (uint)UnknownId));
        metadata.Add(new("tokenizer.ggml.add_bos_token", true));
        metadata.Add(new("tokenizer.ggml.add_eos_token", false));
        metadata.Add(new("tokenizer.ggml.add_space_prefix", AddSpacePrefix));
    }

    /// <summary>The file's SentencePiece ("llama") vocabulary, null when it carries none; malformed keys are errors naming the key.</summary>
    public static GgufVocabulary? Read(GgufFile file)
    {
        var meta = file.Metadata;
        if (meta.GetValueOrDefault("tokenizer.ggml.model") is not { } model) return null;
        if (model is not "llama")
            throw new ModelFormatException(file.Path, $"tokenizer.ggml.model '{model}' is not supported (llama, a SentencePiece BPE vocabulary)");
        T[] Array<T>(string key, Func<object, T?> convert, bool required)
        {
            if (meta.GetValueOrDefault(key) is not { } value)
                return required ? throw new ModelFormatException(file.Path, $"{key} is missing") : [];
            if (value is not object[] items) throw new ModelFormatException(file.Path, $"{key} must be an array");
            var result = new T[items.Length];
            for (int i = 0; i < items.Length; i++)
                result[i] = convert(items[i]) ?? throw new ModelFormatException(file.Path, $"{key}[{i}] has the wrong type ({items[i].GetType().Name})");
            return result;
        }
        var tokens = Array("tokenizer.ggml.tokens", v => v as string, required: true);
        var scores = Array<float?>("tokenizer.ggml.scores", v => v is double d ? (float)d : null, required: false).Select(s => s!.Value).ToArray();
        var types = Array<int?>("tokenizer.ggml.token_type", v => v is long l && l is >= 1 and <= 6 ? (int)l : null, required: false).Select(t => t!.Value).ToArray();
        if (tokens.Length == 0) throw new ModelFormatException(file.Path, "tokenizer.ggml.tokens is empty");
        if (scores.Length == 0) scores = new float[tokens.Length];
        if (types.Length == 0) types = Enumerable.Repeat(1, tokens.Length).ToArray();
        if (scores.Length != tokens.Length || types.Length != tokens.Length)
            throw new ModelFormatException(file.Path, $"tokenizer.ggml.scores ({scores.Length}) and token_type ({types.Length}) must match tokenizer.ggml.tokens ({tokens.Length})");
        int Id(string key, int fallback) => meta.GetValueOrDefault(key) switch
        {
            null => fallback,
            long v when v >= 0 && v < tokens.Length => (int)v,
            var v => throw new ModelFormatException(file.Path, $"{key} {v} is not a token id below {tokens.Length}"),
        };
        bool prefix = meta.GetValueOrDefault("tokenizer.ggml.add_space_prefix") switch
        {
            null => true,
            bool b => b,
            var v => throw new ModelFormatException(file.Path, $"tokenizer.ggml.add_space_prefix must be a bool, found {v}"),
        };
        return new GgufVocabulary(tokens, scores, types, Id("tokenizer.ggml.unknown_token_id", 0), Id("tokenizer.ggml.bos_token_id", 1), Id("tokenizer.ggml.eos_token_id", 2), prefix);
    }
}
