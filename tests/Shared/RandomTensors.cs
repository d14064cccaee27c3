using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.Testing;

/// <summary>Random inputs for differential tests (seeded afresh each run; NUnit prints the seed on failure) and the closeness check.</summary>
internal static class RandomTensors
{
    public static Random Fresh() => new(TestContext.CurrentContext.Random.Next());

    /// <summary>Uniform in [−spread/2, spread/2).</summary>
    public static float[] RandomFloats(Random r, long n, double spread = 2) => Enumerable.Range(0, (int)n).Select(_ => (float)((r.NextDouble() - 0.5) * spread)).ToArray();

    /// <summary>Random codes, scales of both signs rounded to the scheme's scale dtype, and zero points where the scheme stores them.</summary>
    public static QuantizedMatrix RandomMatrix(Random r, QuantScheme scheme, int n, int k)
    {
        int groups = scheme.GroupCount(k);
        var codes = Enumerable.Range(0, n * k).Select(_ => (byte)r.Next(scheme.MaxCode + 1)).ToArray();
        var scales = Enumerable.Range(0, n * groups).Select(_ => FloatStorage.Round((float)((r.NextDouble() - 0.3) * 0.1), scheme.ScaleType)).ToArray();
        var zeros = scheme.Symmetric ? null : Enumerable.Range(0, n * groups).Select(_ => (byte)r.Next(scheme.MaxCode + 1)).ToArray();
        return new QuantizedMatrix(scheme, n, k, codes, scales, zeros);
    }

    /// <summary>A random mask of <paramref name="format"/>'s shape keeping about half the weights (unstructured: a third, and row 2 empty).</summary>
    public static bool[] RandomMask(Random r, SparseFormat format, int n, int k)
    {
        var kept = new bool[(long)n * k];
        switch (format.Kind)
        {
            case SparseKind.NOfM:
                for (int row = 0; row < n; row++)
                    for (int g = 0; g < k; g += format.M)
                        foreach (int j in Enumerable.Range(0, format.M).OrderBy(_ => r.Next()).Take(format.N)) kept[row * k + g + j] = true;
                break;
            case SparseKind.Block:
                var blocks = new Dictionary<(int, int), bool>();
                for (int row = 0; row < n; row++)
                    for (int c = 0; c < k; c++)
                    {
                        var key = (row / format.BlockRows, c / format.BlockCols);
                        if (!blocks.TryGetValue(key, out bool keep)) blocks[key] = keep = r.Next(2) == 0;
                        kept[row * k + c] = keep;
                    }
                break;
            default:
                for (long i = 0; i < kept.Length; i++) kept[i] = r.NextDouble() < 0.3;
                if (n > 2) Array.Clear(kept, 2 * k, k);
                break;
        }
        return kept;
    }

    /// <summary>
    /// A random sparse matrix of <paramref name="pattern"/> (a sparse format token) whose kept elements are
    /// <paramref name="element"/>: a float dtype (values rounded to it), or <c>qBgG</c> for B-bit asymmetric codes in groups of G.
    /// </summary>
    public static SparseMatrix RandomSparse(Random r, string pattern, string element, int n, int k)
    {
        var format = SparseFormat.FromToken(pattern);
        var kept = RandomMask(r, format, n, k);
        if (element.StartsWith('q'))
        {
            int bits = element[1] - '0', group = int.Parse(element[3..], System.Globalization.CultureInfo.InvariantCulture);
            return SparseMatrix.FromQuantized(format, kept, RandomMatrix(r, QuantScheme.Create(bits, group, false, DType.F16), n, k));
        }
        var dtype = DType.Parse(element);
        var dense = RandomFloats(r, (long)n * k).Select(v => FloatStorage.Round(v, dtype)).ToArray();
        return SparseMatrix.FromDense(format, dtype, n, k, kept, dense);
    }

    /// <summary>Every element within <paramref name="relative"/> of the largest expected magnitude.</summary>
    public static void AssertClose(float[] actual, float[] expected, double relative)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double scale = expected.Max(v => Math.Abs(v)) + 1e-30;
        for (int i = 0; i < actual.Length; i++)
            Assert.That(Math.Abs(actual[i] - expected[i]) / scale, Is.LessThanOrEqualTo(relative), $"element {i}: {actual[i]} vs {expected[i]}");
    }
}
