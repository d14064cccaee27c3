using Codesign.Compiler.Calibration;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Compiler.Quantization;

/// <summary>
/// AWQ's scale search (Lin et al. 2024): channels that carry large activations matter more, so scale
/// weight column c up by s_c = mean|x_c|^α (and the activation down by the same factor, folded upstream)
/// before round-to-nearest. α is searched on a grid of 20 to minimise ‖X·Wᵀ − X·Q(W·s)/s‖² on sampled
/// calibration rows, jointly for all layers reading the same activation. α = 0 is plain RTN, so the search
/// never does worse than RTN on the calibration sample.
/// </summary>
public static class ActivationAwareScaling
{
    public sealed record Layer(float[] Weights, int Rows, int Cols, QuantScheme Scheme, bool[]? Kept);

    public static double[] Search(IReadOnlyList<Layer> layers, InputStatistics stats, int grid = 20)
    {
        int k = stats.Channels;
        var x = stats.Samples.SelectMany(r => r).ToArray();
        int m = stats.Samples.Count;
        var reference = layers.Select(l => MatMulKernel.Linear(x, l.Weights, m, l.Rows, k)).ToArray();
        double bestLoss = double.PositiveInfinity;
        double[] best = Enumerable.Repeat(1.0, k).ToArray();
        for (int step = 0; step < grid; step++)
        {
            double alpha = (double)step / grid;
            var s = Candidate(stats, alpha);
            var inverse = s.Select(v => 1 / v).ToArray();
            double loss = 0;
            for (int i = 0; i < layers.Count; i++)
            {
                var l = layers[i];
                var q = GroupwiseQuantizer.Quantize(ChannelScaleFolding.ScaleColumns(l.Weights, l.Rows, k, s), l.Rows, k, l.Scheme, l.Kept).ToDense();
                var y = MatMulKernel.Linear(x, ChannelScaleFolding.ScaleColumns(q, l.Rows, k, inverse), m, l.Rows, k);
                for (int j = 0; j < y.Length; j++)
                {
                    double d = y[j] - reference[i][j];
                    loss += d * d;
                }
            }
            if (loss < bestLoss)
            {
                bestLoss = loss;
                best = s;
            }
        }
        return best;
    }

    /// <summary>
    /// AWQ's clip search: per output row and group, the range shrink c ∈ {1, 0.95, …, 0.55} that minimises
    /// the group's output error (w − Q_c(w))ᵀ G (w − Q_c(w)), G = X_gᵀX_g over the sampled calibration rows.
    /// </summary>
    public static double[] SearchClips(float[] w, int rows, int cols, QuantScheme scheme, InputStatistics stats, bool[]? kept, int steps = 10)
    {
        int groups = scheme.GroupCount(cols), g = scheme.GroupLength(cols);
        var clips = new double[(long)rows * groups];
        var samples = stats.Samples;
        for (int gi = 0; gi < groups; gi++)
        {
            int start = gi * g, len = Math.Min(g, cols - start);
            var gram = new double[len * len];
            foreach (var x in samples)
                for (int i = 0; i < len; i++)
                {
                    double xi = x[start + i];
                    if (xi == 0) continue;
                    for (int j = 0; j < len; j++) gram[i * len + j] += xi * x[start + j];
                }
            Parallel.For(0, rows, r =>
            {
                var values = w.AsSpan(r * cols + start, len);
                var mask = kept is null ? default : kept.AsSpan(r * cols + start, len);
                var diff = new double[len];
                double bestError = double.PositiveInfinity, best = 1;
                for (int step = 0; step < steps; step++)
                {
                    double clip = 1 - 0.05 * step;
                    var p = GroupwiseQuantizer.Choose(values, scheme, mask, clip);
                    for (int i = 0; i < len; i++)
                        diff[i] = values[i] - (mask.IsEmpty || mask[i] ? GroupwiseQuantizer.Dequantize(GroupwiseQuantizer.Code(values[i], p, scheme), p) : 0);
                    double error = 0;
                    for (int i = 0; i < len; i++)
                    {
                        if (diff[i] == 0) continue;
                        double row = 0;
                        for (int j = 0; j < len; j++) row += gram[i * len + j] * diff[j];
                        error += diff[i] * row;
                    }
                    if (error < bestError)
                    {
                        bestError = error;
                        best = clip;
                    }
                }
                clips[(long)r * groups + gi] = best;
            });
        }
        return clips;
    }

    private static double[] Candidate(InputStatistics stats, double alpha)
    {
        var s = new double[stats.Channels];
        for (int c = 0; c < s.Length; c++) s[c] = Math.Pow(Math.Max(stats.AbsMean(c), 1e-4), alpha);
        // Normalise so the scales straddle 1 (as AWQ does): keeps weights in a sane range for f16 scales.
        double norm = Math.Sqrt(s.Max() * s.Min());
        for (int c = 0; c < s.Length; c++) s[c] /= norm;
        return s;
    }
}
