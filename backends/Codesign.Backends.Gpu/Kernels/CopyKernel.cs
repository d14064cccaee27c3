using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

internal static class CopyKernel
{
    /// <summary>y = x, grid-stride: reads and writes every byte once, the device's copy bandwidth.</summary>
    public static void Copy(ArrayView<float> x, ArrayView<float> y)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX) y[i] = x[i];
    }
}
