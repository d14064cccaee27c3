using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>Kernels with one group per row of the last axis: rms_norm and softmax.</summary>
internal static class RowKernels
{
    /// <summary>y = w · x / sqrt(mean(x²) + eps), the sum of squares in f64 as the interpreter takes it.</summary>
    public static void RmsNorm(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> y, int d, double eps)
    {
        long row = Grid.IdxX;
        long start = row * d;
        double sum = 0;
        for (int c = Group.IdxX; c < d; c += Group.DimX)
        {
            double v = x[start + c];
            sum += v * v;
        }
        sum = Reductions.GroupSum(sum);
        float inv = (float)(1.0 / XMath.Sqrt(sum / d + eps));
        for (int c = Group.IdxX; c < d; c += Group.DimX) y[start + c] = x[start + c] * inv * weight[c];
    }

    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int d)
    {
        long start = (long)Grid.IdxX * d;
        float max = float.NegativeInfinity;
        for (int c = Group.IdxX; c < d; c += Group.DimX) max = XMath.Max(max, x[start + c]);
        max = Reductions.GroupMax(max);
        float sum = 0f;
        for (int c = Group.IdxX; c < d; c += Group.DimX)
        {
            float e = XMath.Exp(x[start + c] - max);
            y[start + c] = e;
            sum += e;
        }
        sum = Reductions.GroupSum(sum);
        for (int c = Group.IdxX; c < d; c += Group.DimX) y[start + c] /= sum;
    }
}
