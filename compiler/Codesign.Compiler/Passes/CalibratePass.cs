using Codesign.Compiler.Calibration;
using Codesign.IR.Diagnostics;

namespace Codesign.Compiler.Passes;

/// <summary>
/// Runs the model on the calibration set once and records the statistics of every activation entering a
/// layer whose plan needs them (GPTQ, AWQ, SmoothQuant, Wanda). Statistics come from the uncompressed model.
/// </summary>
public sealed class CalibratePass : IPass
{
    public string Name => "calibrate";

    public static bool NeedsCalibration(Recipes.LayerRule rule) =>
        rule.Quant is { Method: "gptq" or "awq" } || rule.Quant?.Smooth is not null || rule.Sparsity is { Method: "wanda" };

    public bool Run(CompressionContext context)
    {
        var nodes = context.Plans.Where(p => NeedsCalibration(p.Value)).Select(p => p.Key).ToList();
        if (nodes.Count == 0) return false;
        var set = context.Calibration?.Value ?? throw new CodesignException(
            $"layer {context.LayerName(nodes[0])} needs calibration data (GPTQ, AWQ, SmoothQuant or Wanda): give calibration text");
        bool hessian = nodes.Any(n => context.Plans[n].Quant?.Method == "gptq");
        foreach (var (value, stats) in CalibrationCollector.Collect(context.Graph, context.Weights, set, nodes, hessian))
            context.Statistics[value] = stats;
        context.Log?.Invoke($"calibrated on {set.Sequences.Count} sequences, {set.TokenCount} tokens");
        return false;
    }
}
