using System.Numerics.Tensors;

namespace Codesign.IR.Semantics;

public static class NormKernels
{
    /// <summary>y = w · x / sqrt(mean(x²) + eps) per row of length d (LLaMA RMSNorm; mean accumulated in f64).</summary>
    public static float[] RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, int rows, int d, double eps)
    {
        var y = new float[(long)rows * d];
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * d, d);
            double sum = 0;
            foreach (float v in row) sum += (double)v * v;
            float inv = (float)(1.0 / Math.Sqrt(sum / d + eps));
            var dst = y.AsSpan(r * d, d);
            TensorPrimitives.Multiply(row, inv, dst);
            TensorPrimitives.Multiply(dst, weight, dst);
        }
        return y;
    }

    /// <summary>Softmax over the last axis, rows of length d.</summary>
    public static float[] Softmax(ReadOnlySpan<float> x, int rows, int d)
    {
        var y = new float[(long)rows * d];
        for (int r = 0; r < rows; r++) TensorPrimitives.SoftMax(x.Slice(r * d, d), y.AsSpan(r * d, d));
        return y;
    }
}
