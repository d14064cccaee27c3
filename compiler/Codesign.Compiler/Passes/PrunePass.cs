using Codesign.Compiler.Recipes;
using Codesign.Compiler.Sparsity;

namespace Codesign.Compiler.Passes;

/// <summary>Chooses the kept-weight mask of every layer planned with sparsity; the weights are encoded later, with their quantization.</summary>
public sealed class PrunePass : IPass
{
    public string Name => "prune";

    public bool Run(CompressionContext context)
    {
        foreach (var (node, rule) in context.Plans)
        {
            if (rule.Sparsity is not { } spec) continue;
            var weight = node.Inputs[1];
            int rows = (int)weight.Type[0].Size, cols = (int)weight.Type[1].Size;
            double[]? norms = null;
            if (spec.Method == "wanda")
            {
                var stats = context.Statistics[node.Inputs[0]];
                norms = stats.SquareSum.Select(Math.Sqrt).ToArray();
            }
            try
            {
                context.Masks[node] = Pruner.Mask(context.ReadFloats(weight), rows, cols, RecipeLoader.PatternOf(spec), spec.Ratio, norms);
            }
            catch (ArgumentException e)
            {
                throw new RecipeException(context.LayerName(node), e.Message);
            }
        }
        return false;
    }
}
