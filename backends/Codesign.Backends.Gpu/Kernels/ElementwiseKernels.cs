using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>One thread per element (grid-stride, so any launch size covers any length).</summary>
internal static class ElementwiseKernels
{
    public static void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX) y[i] = a[i] + b[i];
    }

    public static void Mul(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX) y[i] = a[i] * b[i];
    }

    public static void Silu(ArrayView<float> a, ArrayView<float> y)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX) y[i] = SiluOf(a[i]);
    }

    /// <summary>silu(gate) · up in one pass: the LLaMA MLP's gating without writing silu(gate) to memory.</summary>
    public static void SiluMul(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX) y[i] = SiluOf(gate[i]) * up[i];
    }

    /// <summary>x · σ(x), as every silu on the gpu computes it.</summary>
    internal static float SiluOf(float x) => x * (1f / (1f + XMath.Exp(-x)));
}
