using System.Text.RegularExpressions;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>llama.cpp's LLaMA tensor names (gguf-py's tensor_mapping) and the Hugging Face keys they stand for.</summary>
public static partial class GgufLlamaNames
{
    private static readonly (string Gguf, string Hf)[] Global =
    [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("output.weight", "lm_head.weight"),
    ];

    private static readonly (string Gguf, string Hf)[] PerLayer =
    [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    public static string? ToHuggingFace(string gguf)
    {
        foreach (var (g, h) in Global) if (g == gguf) return h;
        var m = GgufLayer().Match(gguf);
        if (!m.Success) return null;
        foreach (var (g, h) in PerLayer)
            if (g == m.Groups[2].Value) return $"model.layers.{m.Groups[1].Value}.{h}.weight";
        return null;
    }

    public static string? ToGguf(string hf)
    {
        foreach (var (g, h) in Global) if (h == hf) return g;
        var m = HfLayer().Match(hf);
        if (!m.Success) return null;
        foreach (var (g, h) in PerLayer)
            if (h == m.Groups[2].Value) return $"blk.{m.Groups[1].Value}.{g}.weight";
        return null;
    }

    /// <summary>
    /// llama.cpp applies RoPE to adjacent pairs, Hugging Face to the two halves of each head, so the converter
    /// permutes q and k rows: GGUF row (h, 2j + t) is HF row (h, t·D/2 + j). Returns, for each GGUF row, its HF row.
    /// </summary>
    public static int[] RopeRowOrder(int rows, int heads)
    {
        int headDim = rows / heads, half = headDim / 2;
        var order = new int[rows];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int t = 0; t < 2; t++) order[h * headDim + 2 * j + t] = h * headDim + t * half + j;
        return order;
    }

    /// <summary>
    /// The tensor's bytes with q/k rows moved between the two RoPE orders (rows are whole ggml blocks, so
    /// this works for every type); other tensors come back unchanged.
    /// </summary>
    public static ReadOnlyMemory<byte> ReorderRopeRows(string hfKey, ReadOnlyMemory<byte> data, int rows, int heads, int kvHeads, bool toHuggingFace)
    {
        int[]? order = IsQuery(hfKey) ? RopeRowOrder(rows, heads) : IsKey(hfKey) ? RopeRowOrder(rows, kvHeads) : null;
        if (order is null) return data;
        int rowBytes = data.Length / rows;
        var src = data.Span;
        var moved = new byte[data.Length];
        for (int r = 0; r < rows; r++)
        {
            // GGUF row r is Hugging Face row order[r].
            var (from, to) = toHuggingFace ? (r, order[r]) : (order[r], r);
            src.Slice(from * rowBytes, rowBytes).CopyTo(moved.AsSpan(to * rowBytes));
        }
        return moved;
    }

    private static bool IsQuery(string hf) => hf.EndsWith(".self_attn.q_proj.weight", StringComparison.Ordinal);
    private static bool IsKey(string hf) => hf.EndsWith(".self_attn.k_proj.weight", StringComparison.Ordinal);
    public static bool IsLinear(string hf) => hf.Contains("_proj.", StringComparison.Ordinal) || hf == "lm_head.weight";

    [GeneratedRegex(@"^blk\.(\d{1,6})\.([a-z_]+)\.weight$")]
    private static partial Regex GgufLayer();

    [GeneratedRegex(@"^model\.layers\.(\d{1,6})\.([a-z_.]+)\.weight$")]
    private static partial Regex HfLayer();
}
