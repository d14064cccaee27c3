namespace Codesign.Compiler.Recipes;

/// <summary>
/// A compression recipe: per layer pattern, which quantization and sparsity to apply (docs/recipes.md).
/// Layers are the linear layers, named by their weight key without ".weight" (e.g.
/// <c>model.layers.0.mlp.down_proj</c>, <c>lm_head</c>); the first rule whose pattern matches wins, and a
/// layer no rule matches stays as it is.
/// </summary>
public sealed record Recipe
{
    public string? Name { get; init; }
    public CalibrationSpec? Calibration { get; init; }
    public KvCacheSpec? KvCache { get; init; }
    public IReadOnlyList<LayerRule> Layers { get; init; } = [];
}

public sealed record CalibrationSpec
{
    /// <summary>Text file, relative to the recipe file; the default is the model's calibration.txt.</summary>
    public string? Text { get; init; }
    public int Sequences { get; init; } = 32;
    public int Length { get; init; } = 128;
}

public sealed record KvCacheSpec
{
    public int Bits { get; init; }
    /// <summary>8: attention itself is integer over the cache's codes (queries and probabilities quantized per row); 0: f32.</summary>
    public int ActBits { get; init; }
}

public sealed record LayerRule
{
    /// <summary>Glob over layer names: <c>*</c> any run of characters (dots included), <c>?</c> one character.</summary>
    public string Match { get; init; } = "";
    /// <summary>Leave the layer unquantized and unpruned, stored as f32, f16 or bf16 ("f16" keeps a layer in half precision).</summary>
    public string? Keep { get; init; }
    public QuantSpec? Quant { get; init; }
    public SparsitySpec? Sparsity { get; init; }
}

public sealed record QuantSpec
{
    /// <summary>rtn, gptq or awq.</summary>
    public string Method { get; init; } = "rtn";
    public int Bits { get; init; } = 4;
    public bool Ternary { get; init; }
    /// <summary>Weights per group along K; 0 = one group per output channel.</summary>
    public int Group { get; init; } = 128;
    public bool Symmetric { get; init; } = true;
    public string Scale { get; init; } = "f16";
    /// <summary>GPTQ: damping as a fraction of the mean Hessian diagonal.</summary>
    public double Damp { get; init; } = 0.01;
    /// <summary>GPTQ: quantize columns by decreasing Hessian diagonal.</summary>
    public bool ActOrder { get; init; }
    /// <summary>0: f32 activations; 8 or 4: activations quantized per token (W4A8, W8A8).</summary>
    public int ActBits { get; init; }
    /// <summary>"weight" (dequantize, then matmul) or "group" (MixPE: scale once per group).</summary>
    public string Accumulate { get; init; } = "weight";
    /// <summary>SmoothQuant: migrate activation outliers into the weights with this α before quantizing.</summary>
    public double? Smooth { get; init; }
}

public sealed record SparsitySpec
{
    /// <summary>magnitude (|W|) or wanda (|W|·‖x‖).</summary>
    public string Method { get; init; } = "magnitude";
    /// <summary>"2:4", "4:8", "1:4" …, "block4x4", "block1x8", or "unstructured".</summary>
    public string Pattern { get; init; } = "2:4";
    /// <summary>Fraction of weights removed, for block and unstructured patterns.</summary>
    public double Ratio { get; init; } = 0.5;
    /// <summary>Element dtype of the kept weights when the layer is not also quantized.</summary>
    public string Element { get; init; } = "f32";
}
