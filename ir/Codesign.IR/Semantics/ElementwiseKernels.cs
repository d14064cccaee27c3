using System.Numerics.Tensors;

namespace Codesign.IR.Semantics;

public static class ElementwiseKernels
{
    public static float[] Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var y = new float[a.Length];
        TensorPrimitives.Add(a, b, y);
        return y;
    }

    public static float[] Mul(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var y = new float[a.Length];
        TensorPrimitives.Multiply(a, b, y);
        return y;
    }

    /// <summary>silu(x) = x · sigmoid(x).</summary>
    public static float[] Silu(ReadOnlySpan<float> x)
    {
        var y = new float[x.Length];
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
        return y;
    }
}
