using System.Numerics.Tensors;

namespace Codesign.Compiler.Calibration;

/// <summary>
/// What the calibrating passes need to know about the activations entering a group of linear layers
/// (all matmuls reading the same value): per-channel |x| mean and max and Σx² (Wanda's ‖x_j‖²), the
/// Gram matrix XᵀX (GPTQ's Hessian, when asked for), and a fixed-seed sample of rows (AWQ's loss).
/// </summary>
public sealed class InputStatistics
{
    private readonly Random _sampler = new(1234);
    private long _seen;

    public InputStatistics(int channels, bool withHessian, int sampleCapacity)
    {
        Channels = channels;
        AbsSum = new double[channels];
        AbsMax = new double[channels];
        SquareSum = new double[channels];
        Hessian = withHessian ? new double[(long)channels * channels] : null;
        SampleCapacity = sampleCapacity;
    }

    public int Channels { get; }
    public long Rows { get; private set; }
    public double[] AbsSum { get; }
    public double[] AbsMax { get; }
    public double[] SquareSum { get; }
    /// <summary>Σ xᵀx over all rows, [Channels, Channels] row-major; null unless requested.</summary>
    public double[]? Hessian { get; }
    public int SampleCapacity { get; }
    public List<float[]> Samples { get; } = [];

    public double AbsMean(int channel) => Rows == 0 ? 0 : AbsSum[channel] / Rows;

    public void Add(ReadOnlySpan<float> x, int rows)
    {
        int k = Channels;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * k, k);
            for (int c = 0; c < k; c++)
            {
                double v = row[c];
                AbsSum[c] += Math.Abs(v);
                AbsMax[c] = Math.Max(AbsMax[c], Math.Abs(v));
                SquareSum[c] += v * v;
            }
            // Reservoir sampling keeps a uniform sample of rows across all calibration sequences.
            if (Samples.Count < SampleCapacity) Samples.Add(row.ToArray());
            else
            {
                long j = _sampler.NextInt64(_seen + 1);
                if (j < SampleCapacity) Samples[(int)j] = row.ToArray();
            }
            _seen++;
        }
        Rows += rows;
        if (Hessian is { } h) AccumulateGram(h, x.ToArray(), rows, k);
    }

    private static void AccumulateGram(double[] h, float[] x, int rows, int k)
    {
        var xd = new double[x.Length];
        for (int i = 0; i < x.Length; i++) xd[i] = x[i];
        Parallel.For(0, k, i =>
        {
            var hRow = h.AsSpan(i * k, k);
            for (int r = 0; r < rows; r++)
            {
                double xi = xd[(long)r * k + i];
                if (xi != 0) TensorPrimitives.MultiplyAdd(xd.AsSpan(r * k, k), xi, hRow, hRow);
            }
        });
    }

    /// <summary>Updates every statistic for x' = x · diag(factor), after a pass folded a per-channel scale into the producer.</summary>
    public void ScaleChannels(ReadOnlySpan<double> factor)
    {
        int k = Channels;
        for (int c = 0; c < k; c++)
        {
            double f = factor[c];
            AbsSum[c] *= Math.Abs(f);
            AbsMax[c] *= Math.Abs(f);
            SquareSum[c] *= f * f;
        }
        if (Hessian is { } h)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) h[(long)i * k + j] *= factor[i] * factor[j];
        foreach (var row in Samples)
            for (int c = 0; c < k; c++) row[c] = (float)(row[c] * factor[c]);
    }
}
