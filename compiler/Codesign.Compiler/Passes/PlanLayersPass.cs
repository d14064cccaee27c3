using Codesign.Compiler.Recipes;

namespace Codesign.Compiler.Passes;

/// <summary>Assigns each linear layer the first recipe rule whose pattern matches its name; reports rules that match nothing.</summary>
public sealed class PlanLayersPass : IPass
{
    public string Name => "plan-layers";

    public bool Run(CompressionContext context)
    {
        var used = new HashSet<LayerRule>();
        foreach (var node in context.LinearLayers().ToList())
        {
            string layer = context.LayerName(node);
            var rule = context.Recipe.Layers.FirstOrDefault(r => LayerPattern.Matches(r.Match, layer));
            if (rule is null) continue;
            context.Plans[node] = rule;
            used.Add(rule);
        }
        foreach (var rule in context.Recipe.Layers.Where(r => !used.Contains(r)))
            context.Log?.Invoke($"warning: recipe rule '{rule.Match}' matches no linear layer");
        return false;
    }
}
