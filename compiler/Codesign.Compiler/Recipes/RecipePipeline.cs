using Codesign.Compiler.Calibration;
using Codesign.Compiler.Passes;
using Codesign.IR.Graphs;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Recipes;

/// <summary>The compression pipeline a recipe runs, and the one call that applies it to a graph.</summary>
public static class RecipePipeline
{
    public static PassManager AddCompressionPasses(this PassManager passes) => passes
        .Add(new PlanLayersPass())
        .Add(new CalibratePass())
        .Add(new ChannelScalingPass())
        .Add(new PrunePass())
        .Add(new QuantizePass())
        .Add(new EncodeWeightsPass())
        .Add(new KvCacheQuantizationPass());

    /// <summary>Rewrites <paramref name="graph"/> in place; the new weights live in the returned store over <paramref name="weights"/>.</summary>
    public static LayeredWeightStore Apply(Graph graph, IWeightStore weights, Recipe recipe, Func<CalibrationSet>? calibration, Action<string>? log = null)
    {
        var store = new LayeredWeightStore(weights);
        var context = new CompressionContext(graph, store, recipe, calibration) { Log = log };
        new PassManager().AddCompressionPasses().Run(context);
        return store;
    }
}
