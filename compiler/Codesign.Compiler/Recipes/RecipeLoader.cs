using System.Text.Json;
using System.Text.Json.Serialization;
using Codesign.IR.Types;

namespace Codesign.Compiler.Recipes;

/// <summary>Reads a JSON recipe strictly (unknown fields are errors) and checks every value before any pass runs.</summary>
public static class RecipeLoader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static Recipe Load(string path)
    {
        if (!File.Exists(path)) throw new RecipeException(path, "no such recipe file");
        return Parse(File.ReadAllText(path), path);
    }

    public static Recipe Parse(string json, string source = "<recipe>")
    {
        Recipe? recipe;
        try
        {
            recipe = JsonSerializer.Deserialize<Recipe>(json, Options);
        }
        catch (JsonException e)
        {
            throw new RecipeException(source, $"invalid recipe JSON{(e.Path is { } p ? $" at {p}" : "")}: {e.Message}");
        }
        if (recipe is null) throw new RecipeException(source, "the recipe is empty");
        Validate(recipe, source);
        return recipe;
    }

    private static void Validate(Recipe recipe, string source)
    {
        void Fail(string field, string message) => throw new RecipeException(source, $"{field}: {message}");
        if (recipe.Calibration is { } cal && (cal.Sequences < 1 || cal.Length < 2))
            Fail("calibration", "needs sequences >= 1 and length >= 2");
        if (recipe.KvCache is { } kv && kv.Bits is not (4 or 8))
            Fail("kv_cache.bits", $"is 4 or 8, not {kv.Bits}");
        if (recipe.KvCache is { } kva && kva.ActBits is not (0 or 8))
            Fail("kv_cache.act_bits", $"is 0 or 8, not {kva.ActBits}");
        for (int i = 0; i < recipe.Layers.Count; i++)
        {
            var rule = recipe.Layers[i];
            string at = $"layers[{i}]";
            if (string.IsNullOrWhiteSpace(rule.Match)) Fail($"{at}.match", "a layer pattern is required");
            if (rule.Keep is { } keep)
            {
                if (keep is not ("f32" or "f16" or "bf16")) Fail($"{at}.keep", $"is f32, f16 or bf16, not '{keep}'");
                if (rule.Quant is not null || rule.Sparsity is not null) Fail(at, "a kept layer takes no quant or sparsity");
            }
            else if (rule.Quant is null && rule.Sparsity is null)
                Fail(at, "says neither keep, quant nor sparsity");
            if (rule.Quant is { } q)
            {
                if (q.Method is not ("rtn" or "gptq" or "awq")) Fail($"{at}.quant.method", $"is rtn, gptq or awq, not '{q.Method}'");
                try
                {
                    SchemeOf(q);
                }
                catch (ArgumentException e)
                {
                    Fail($"{at}.quant", e.Message);
                }
                if (q.ActBits is not (0 or 4 or 8)) Fail($"{at}.quant.act_bits", $"is 0, 4 or 8, not {q.ActBits}");
                if (q.Accumulate is not ("weight" or "group")) Fail($"{at}.quant.accumulate", $"is weight or group, not '{q.Accumulate}'");
                if (q.Damp is <= 0 or > 1) Fail($"{at}.quant.damp", $"is in (0, 1], not {q.Damp}");
                if (q.Smooth is { } alpha && alpha is < 0 or > 1) Fail($"{at}.quant.smooth", $"α is in [0, 1], not {alpha}");
                if (q.Smooth is not null && q.Method == "awq") Fail($"{at}.quant", "awq and smooth both rescale channels: choose one");
            }
            if (rule.Sparsity is { } sp)
            {
                if (sp.Method is not ("magnitude" or "wanda")) Fail($"{at}.sparsity.method", $"is magnitude or wanda, not '{sp.Method}'");
                try
                {
                    PatternOf(sp);
                }
                catch (ArgumentException e)
                {
                    Fail($"{at}.sparsity.pattern", e.Message);
                }
                if (sp.Ratio is <= 0 or >= 1) Fail($"{at}.sparsity.ratio", $"is in (0, 1), not {sp.Ratio}");
                if (sp.Element is not ("f32" or "f16" or "bf16")) Fail($"{at}.sparsity.element", $"is f32, f16 or bf16, not '{sp.Element}'");
            }
        }
    }

    public static QuantScheme SchemeOf(QuantSpec q) =>
        QuantScheme.Create(q.Ternary ? 2 : q.Bits, q.Group, q.Symmetric || q.Ternary, DType.Parse(q.Scale), ternary: q.Ternary);

    /// <summary>"2:4" → N:M, "block4x4" → block, "unstructured".</summary>
    public static SparseFormat PatternOf(SparsitySpec s)
    {
        string p = s.Pattern.Trim();
        if (p == "unstructured") return SparseFormat.Unstructured;
        if (p.StartsWith("block", StringComparison.Ordinal)) return SparseFormat.FromToken("block_" + p["block".Length..]);
        var parts = p.Split(':');
        if (parts.Length == 2) return SparseFormat.FromToken($"nm_{parts[0]}_{parts[1]}");
        throw new ArgumentException($"unknown pattern '{s.Pattern}': expected N:M, blockRxC or unstructured");
    }
}
