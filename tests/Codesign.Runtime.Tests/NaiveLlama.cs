namespace Codesign.Runtime.Tests;

/// <summary>
/// An independent, scalar f64 LLaMA forward pass over a whole sequence (no KV cache, no graph), written
/// from the architecture's definition, to check the importer + interpreter on models other than the fixture.
/// </summary>
internal static class NaiveLlama
{
    public static double[,] Forward(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> w, int layers, int heads, int kvHeads,
        int headDim, double theta, double eps, bool tied, int[] tokens)
    {
        int s = tokens.Length;
        var embed = w["model.embed_tokens.weight"];
        int hidden = (int)embed.Shape[1];
        var h = new double[s][];
        for (int t = 0; t < s; t++) h[t] = Enumerable.Range(0, hidden).Select(i => (double)embed.Values[tokens[t] * hidden + i]).ToArray();
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            var x = h.Select(row => Norm(row, w[p + "input_layernorm.weight"].Values, eps)).ToArray();
            var q = x.Select(row => Linear(row, w[p + "self_attn.q_proj.weight"])).ToArray();
            var k = x.Select(row => Linear(row, w[p + "self_attn.k_proj.weight"])).ToArray();
            var v = x.Select(row => Linear(row, w[p + "self_attn.v_proj.weight"])).ToArray();
            for (int t = 0; t < s; t++) { Rope(q[t], heads, headDim, t, theta); Rope(k[t], kvHeads, headDim, t, theta); }
            var attn = new double[s][];
            for (int t = 0; t < s; t++)
            {
                attn[t] = new double[heads * headDim];
                for (int hh = 0; hh < heads; hh++)
                {
                    int g = hh / (heads / kvHeads);
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double dot = 0;
                        for (int i = 0; i < headDim; i++) dot += q[t][hh * headDim + i] * k[j][g * headDim + i];
                        scores[j] = dot / Math.Sqrt(headDim);
                    }
                    double max = scores.Max(), sum = scores.Sum(z => Math.Exp(z - max));
                    for (int j = 0; j <= t; j++)
                        for (int i = 0; i < headDim; i++)
                            attn[t][hh * headDim + i] += Math.Exp(scores[j] - max) / sum * v[j][g * headDim + i];
                }
            }
            for (int t = 0; t < s; t++)
            {
                var o = Linear(attn[t], w[p + "self_attn.o_proj.weight"]);
                for (int i = 0; i < hidden; i++) h[t][i] += o[i];
                var m = Norm(h[t], w[p + "post_attention_layernorm.weight"].Values, eps);
                var gate = Linear(m, w[p + "mlp.gate_proj.weight"]);
                var up = Linear(m, w[p + "mlp.up_proj.weight"]);
                var act = gate.Select((gv, i) => gv / (1 + Math.Exp(-gv)) * up[i]).ToArray();
                var down = Linear(act, w[p + "mlp.down_proj.weight"]);
                for (int i = 0; i < hidden; i++) h[t][i] += down[i];
            }
        }
        var head = tied ? embed : w["lm_head.weight"];
        int vocab = (int)head.Shape[0];
        var logits = new double[s, vocab];
        for (int t = 0; t < s; t++)
        {
            var f = Linear(Norm(h[t], w["model.norm.weight"].Values, eps), head);
            for (int i = 0; i < vocab; i++) logits[t, i] = f[i];
        }
        return logits;
    }

    private static double[] Norm(double[] x, float[] weight, double eps)
    {
        double ms = x.Sum(v => v * v) / x.Length;
        return x.Select((v, i) => v / Math.Sqrt(ms + eps) * weight[i]).ToArray();
    }

    private static double[] Linear(double[] x, (long[] Shape, float[] Values) w)
    {
        int n = (int)w.Shape[0], k = (int)w.Shape[1];
        var y = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < k; i++) s += x[i] * w.Values[j * k + i];
            y[j] = s;
        }
        return y;
    }

    private static void Rope(double[] x, int heads, int d, int pos, double theta)
    {
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < d / 2; i++)
            {
                double angle = pos * Math.Pow(theta, -2.0 * i / d);
                int o = h * d;
                double a = x[o + i], b = x[o + i + d / 2];
                x[o + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[o + i + d / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
    }
}
