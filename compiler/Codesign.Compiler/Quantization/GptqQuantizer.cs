using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Compiler.Quantization;

/// <summary>
/// GPTQ (Frantar et al. 2023): quantize the columns of W [N, K] one at a time and spread each column's
/// error over the columns not yet quantized through the inverse Hessian H = XᵀX of the calibration
/// inputs, so X·Wᵀ changes as little as possible. Cholesky form of H⁻¹, lazy block updates of 128 columns,
/// damping λ·mean(diag H). With act order, columns go by decreasing diag(H); group parameters are then
/// fixed up front from the unmodified weights (static groups) so groups stay contiguous along K, as our
/// packing requires. Pruned weights (mask false) are quantized to exactly zero and their error propagated,
/// as SparseGPT does.
/// </summary>
public static class GptqQuantizer
{
    public sealed record Options(double Damping = 0.01, bool ActOrder = false, int BlockSize = 128);

    public static QuantizedMatrix Quantize(ReadOnlySpan<float> weights, int rows, int cols, QuantScheme s, double[] hessian, Options options, bool[]? kept = null)
    {
        int k = cols;
        var w = new double[(long)rows * k];
        for (long i = 0; i < w.LongLength; i++) w[i] = weights[(int)i];
        var h = (double[])hessian.Clone();
        for (int c = 0; c < k; c++)
        {
            if (h[(long)c * k + c] != 0) continue;
            // A channel that never saw activation: its weights do not matter; keep H invertible.
            h[(long)c * k + c] = 1;
            for (int r = 0; r < rows; r++) w[(long)r * k + c] = 0;
        }
        int[] order = Enumerable.Range(0, k).ToArray();
        if (options.ActOrder) order = order.OrderByDescending(c => h[(long)c * k + c]).ToArray();

        int groups = s.GroupCount(cols), g = s.GroupLength(cols);
        var scales = new float[(long)rows * groups];
        var zeros = s.Symmetric ? null : new byte[scales.Length];
        var parameters = new GroupwiseQuantizer.GroupParameters[(long)rows * groups];
        var haveParameters = new bool[groups];
        if (options.ActOrder)
        {
            for (int gi = 0; gi < groups; gi++) ComputeGroup(gi);
        }

        var u = InverseCholeskyUpper(Permute(h, order, k), k, options.Damping);
        var codes = new byte[(long)rows * cols];
        var wp = new double[(long)rows * k];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++) wp[(long)r * k + j] = w[(long)r * k + order[j]];

        for (int b0 = 0; b0 < k; b0 += options.BlockSize)
        {
            int b1 = Math.Min(k, b0 + options.BlockSize);
            var err = new double[(long)rows * (b1 - b0)];
            for (int j = b0; j < b1; j++)
            {
                int col = order[j], gi = col / g;
                if (!haveParameters[gi]) ComputeGroupFrom(wp, gi);
                double d = u[(long)j * k + j];
                Parallel.For(0, rows, r =>
                {
                    var p = parameters[(long)r * groups + gi];
                    double value = wp[(long)r * k + j];
                    bool isKept = kept is null || kept[(long)r * cols + col];
                    int code = isKept ? GroupwiseQuantizer.Code((float)value, p, s) : p.Zero;
                    codes[(long)r * cols + col] = (byte)code;
                    double e = (value - GroupwiseQuantizer.Dequantize(code, p)) / d;
                    err[(long)r * (b1 - b0) + (j - b0)] = e;
                    for (int t = j + 1; t < b1; t++) wp[(long)r * k + t] -= e * u[(long)j * k + t];
                });
            }
            if (b1 < k)
            {
                Parallel.For(0, rows, r =>
                {
                    for (int j = b0; j < b1; j++)
                    {
                        double e = err[(long)r * (b1 - b0) + (j - b0)];
                        if (e == 0) continue;
                        for (int t = b1; t < k; t++) wp[(long)r * k + t] -= e * u[(long)j * k + t];
                    }
                });
            }
        }
        for (long i = 0; i < parameters.LongLength; i++) GroupwiseQuantizer.Store(parameters[i], i, scales, zeros);
        return new QuantizedMatrix(s, rows, cols, codes, scales, zeros);

        void ComputeGroup(int gi) => ComputeGroupWith(gi, (r, c) => (float)w[(long)r * k + c]);

        // Without act order a group's parameters come from the weights as updated so far (GPTQ's default);
        // wp is in permuted column order, which is the identity then.
        void ComputeGroupFrom(double[] current, int gi) => ComputeGroupWith(gi, (r, c) => (float)current[(long)r * k + c]);

        void ComputeGroupWith(int gi, Func<int, int, float> value)
        {
            int start = gi * g, len = Math.Min(g, cols - start);
            Parallel.For(0, rows, r =>
            {
                var values = new float[len];
                var mask = kept is null ? null : new bool[len];
                for (int c = 0; c < len; c++)
                {
                    values[c] = value(r, start + c);
                    if (mask is not null) mask[c] = kept![(long)r * cols + start + c];
                }
                parameters[(long)r * groups + gi] = GroupwiseQuantizer.Choose(values, s, mask);
            });
            haveParameters[gi] = true;
        }
    }

    private static double[] Permute(double[] h, int[] order, int k)
    {
        var p = new double[h.LongLength];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) p[(long)i * k + j] = h[(long)order[i] * k + order[j]];
        return p;
    }

    /// <summary>The upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), after adding damping; more damping if H is not positive definite.</summary>
    internal static double[] InverseCholeskyUpper(double[] h, int k, double damping)
    {
        double mean = 0;
        for (int i = 0; i < k; i++) mean += h[(long)i * k + i];
        mean /= k;
        for (double lambda = damping; lambda <= 10; lambda *= 10)
        {
            var a = (double[])h.Clone();
            for (int i = 0; i < k; i++) a[(long)i * k + i] += lambda * mean;
            if (!CholeskyLower(a, k)) continue;
            var inverse = InverseFromCholesky(a, k);
            if (!CholeskyLower(inverse, k)) continue;
            // inverse now holds L with H⁻¹ = L·Lᵀ; GPTQ wants U = Lᵀ.
            var upper = new double[inverse.LongLength];
            for (int i = 0; i < k; i++)
                for (int j = 0; j <= i; j++) upper[(long)j * k + i] = inverse[(long)i * k + j];
            return upper;
        }
        throw new CodesignException("GPTQ: the calibration Hessian is not positive definite even with heavy damping");
    }

    /// <summary>In place: lower triangle becomes L with A = L·Lᵀ; false when A is not positive definite.</summary>
    private static bool CholeskyLower(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[(long)j * n + j];
            for (int t = 0; t < j; t++) d -= a[(long)j * n + t] * a[(long)j * n + t];
            if (!(d > 0)) return false;
            double l = Math.Sqrt(d);
            a[(long)j * n + j] = l;
            Parallel.For(j + 1, n, i =>
            {
                double v = a[(long)i * n + j];
                var ri = a.AsSpan((int)((long)i * n), j);
                var rj = a.AsSpan((int)((long)j * n), j);
                for (int t = 0; t < j; t++) v -= ri[t] * rj[t];
                a[(long)i * n + j] = v / l;
            });
        }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) a[(long)i * n + j] = 0;
        return true;
    }

    /// <summary>A⁻¹ = L⁻ᵀ·L⁻¹ from the Cholesky factor L (lower triangle of <paramref name="l"/>).</summary>
    private static double[] InverseFromCholesky(double[] l, int n)
    {
        var linv = new double[(long)n * n];
        Parallel.For(0, n, col =>
        {
            // Solve L·x = e_col by forward substitution; x is column col of L⁻¹.
            for (int i = col; i < n; i++)
            {
                double v = i == col ? 1 : 0;
                for (int t = col; t < i; t++) v -= l[(long)i * n + t] * linv[(long)t * n + col];
                linv[(long)i * n + col] = v / l[(long)i * n + i];
            }
        });
        var inv = new double[(long)n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j <= i; j++)
            {
                double v = 0;
                for (int t = i; t < n; t++) v += linv[(long)t * n + i] * linv[(long)t * n + j];
                inv[(long)i * n + j] = v;
                inv[(long)j * n + i] = v;
            }
        });
        return inv;
    }
}
