using Codesign.Compiler.Quantization;
using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;

namespace Codesign.Compiler.Passes;

/// <summary>
/// AWQ and SmoothQuant: for each activation read only by layers planned with one of them, choose per-channel
/// scales s, multiply the layers' weight columns by s and fold 1/s into the activation's producer
/// (<see cref="ChannelScaleFolding"/>). The function the graph computes is unchanged up to f32 rounding;
/// the calibration statistics are rescaled to match. Activations with no foldable producer are skipped.
/// </summary>
public sealed class ChannelScalingPass : IPass
{
    public string Name => "channel-scaling";

    public bool Run(CompressionContext context)
    {
        bool changed = false;
        var groups = context.Plans.Keys
            .Where(n => context.Plans[n].Quant is { Method: "awq" } || context.Plans[n].Quant?.Smooth is not null)
            .GroupBy(n => n.Inputs[0]).ToList();
        foreach (var group in groups)
        {
            var x = group.Key;
            var readers = context.Graph.Users(x).ToList();
            string names = string.Join(", ", readers.Select(context.LayerName));
            if (readers.Any(r => !group.Contains(r)) || !SameScaling(readers.Select(r => context.Plans[r].Quant!)))
            {
                context.Log?.Invoke($"channel-scaling: skipped {names}: layers reading one activation need the same scaling");
                continue;
            }
            var fold = ChannelScaleFolding.Find(context, x, readers);
            if (fold is null || !context.Statistics.TryGetValue(x, out var stats))
            {
                context.Log?.Invoke($"channel-scaling: skipped {names}: no place upstream to fold the scales into");
                continue;
            }
            var quant = context.Plans[readers[0]].Quant!;
            var layers = readers.Select(r => (Node: r, W: context.ReadFloats(r.Inputs[1]), Rows: (int)r.Inputs[1].Type[0].Size, Cols: (int)r.Inputs[1].Type[1].Size)).ToList();
            double[] s = quant.Method == "awq"
                ? ActivationAwareScaling.Search(layers.Select(l => new ActivationAwareScaling.Layer(l.W, l.Rows, l.Cols, RecipeLoader.SchemeOf(context.Plans[l.Node].Quant!), context.Masks.GetValueOrDefault(l.Node))).ToList(), stats)
                : SmoothQuantScaling.Scales(stats, layers.Select(l => (l.W, l.Rows, l.Cols)), quant.Smooth!.Value);
            foreach (var l in layers)
                context.WriteFloats(l.Node.Inputs[1], ChannelScaleFolding.ScaleColumns(l.W, l.Rows, l.Cols, s));
            var inverse = s.Select(v => 1 / v).ToArray();
            fold(inverse);
            stats.ScaleChannels(inverse);
            changed = true;
        }
        return changed;
    }

    private static bool SameScaling(IEnumerable<QuantSpec> specs) =>
        specs.Select(q => (q.Method == "awq", q.Smooth)).Distinct().Count() == 1;
}
