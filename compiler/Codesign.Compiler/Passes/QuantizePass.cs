using Codesign.Compiler.Quantization;
using Codesign.Compiler.Recipes;

namespace Codesign.Compiler.Passes;

/// <summary>
/// Chooses codes and scales for every layer planned with quantization: round-to-nearest (also after
/// SmoothQuant scaling), AWQ's clipped round-to-nearest (after its scaling), or GPTQ with the layer's calibration Hessian. Pruned weights get the zero code.
/// </summary>
public sealed class QuantizePass : IPass
{
    public string Name => "quantize";

    public bool Run(CompressionContext context)
    {
        foreach (var (node, rule) in context.Plans)
        {
            if (rule.Quant is not { } spec) continue;
            var weight = node.Inputs[1];
            int rows = (int)weight.Type[0].Size, cols = (int)weight.Type[1].Size;
            var scheme = RecipeLoader.SchemeOf(spec);
            var w = context.ReadFloats(weight);
            var mask = context.Masks.GetValueOrDefault(node);
            context.Quantized[node] = spec.Method == "gptq"
                ? GptqQuantizer.Quantize(w, rows, cols, scheme, context.Statistics[node.Inputs[0]].Hessian!, new GptqQuantizer.Options(spec.Damp, spec.ActOrder), mask)
                : spec.Method == "awq"
                ? GroupwiseQuantizer.Quantize(w, rows, cols, scheme, mask, ActivationAwareScaling.SearchClips(w, rows, cols, scheme, context.Statistics[node.Inputs[0]], mask))
                : GroupwiseQuantizer.Quantize(w, rows, cols, scheme, mask);
        }
        return false;
    }
}
