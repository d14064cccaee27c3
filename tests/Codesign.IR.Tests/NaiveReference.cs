namespace Codesign.IR.Tests;

/// <summary>Straightforward scalar f64 versions of the ops, written independently of the kernels.</summary>
internal static class NaiveReference
{
    public static double[] Linear(float[] x, float[] w, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += (double)x[i * k + t] * w[j * k + t];
                y[i * n + j] = s;
            }
        return y;
    }

    public static double[] RmsNorm(float[] x, float[] w, int rows, int d, double eps)
    {
        var y = new double[rows * d];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double)x[r * d + i] * x[r * d + i];
            double inv = 1 / Math.Sqrt(ss / d + eps);
            for (int i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * inv * w[i];
        }
        return y;
    }

    public static double[] Rope(float[] x, int[] pos, int s, int h, int d, double theta)
    {
        var y = new double[x.Length];
        for (int t = 0; t < s; t++)
            for (int head = 0; head < h; head++)
                for (int i = 0; i < d / 2; i++)
                {
                    double angle = pos[t] * Math.Pow(theta, -2.0 * i / d);
                    int o = (t * h + head) * d;
                    double a = x[o + i], b = x[o + i + d / 2];
                    y[o + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                    y[o + i + d / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
                }
        return y;
    }

    /// <summary>Causal attention of s new queries over total = past + s keys (all given here).</summary>
    public static double[] Attention(float[] q, float[] k, float[] v, int s, int past, int h, int kvh, int d, double scale)
    {
        var y = new double[s * h * d];
        for (int t = 0; t < s; t++)
            for (int head = 0; head < h; head++)
            {
                int g = head / (h / kvh);
                int visible = past + t + 1;
                var scores = new double[visible];
                for (int j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double)q[(t * h + head) * d + i] * k[(j * kvh + g) * d + i];
                    scores[j] = dot * scale;
                }
                double max = scores.Max();
                double sum = scores.Sum(sc => Math.Exp(sc - max));
                for (int j = 0; j < visible; j++)
                {
                    double p = Math.Exp(scores[j] - max) / sum;
                    for (int i = 0; i < d; i++) y[(t * h + head) * d + i] += p * v[(j * kvh + g) * d + i];
                }
            }
        return y;
    }

    public static double[] Softmax(float[] x, int rows, int d)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < d; i++) max = Math.Max(max, x[r * d + i]);
            double sum = 0;
            for (int i = 0; i < d; i++) sum += Math.Exp(x[r * d + i] - max);
            for (int i = 0; i < d; i++) y[r * d + i] = Math.Exp(x[r * d + i] - max) / sum;
        }
        return y;
    }
}
