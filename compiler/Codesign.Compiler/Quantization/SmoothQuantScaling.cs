using Codesign.Compiler.Calibration;

namespace Codesign.Compiler.Quantization;

/// <summary>
/// SmoothQuant (Xiao et al. 2023): activations have outlier channels that 8-bit per-token quantization
/// handles badly, weights do not. s_c = max|x_c|^α / max|W_{:,c}|^(1−α) moves the difficulty into the
/// weights: x/s is smoother and W·s still quantizes well.
/// </summary>
public static class SmoothQuantScaling
{
    public static double[] Scales(InputStatistics stats, IEnumerable<(float[] Weights, int Rows, int Cols)> layers, double alpha)
    {
        int k = stats.Channels;
        var wmax = new double[k];
        foreach (var (w, rows, cols) in layers)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) wmax[c] = Math.Max(wmax[c], Math.Abs(w[r * cols + c]));
        var s = new double[k];
        for (int c = 0; c < k; c++)
        {
            double v = Math.Pow(Math.Max(stats.AbsMax[c], 1e-5), alpha) / Math.Pow(Math.Max(wmax[c], 1e-5), 1 - alpha);
            s[c] = Math.Clamp(v, 1e-5, 1e5);
        }
        return s;
    }
}
