using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// Warp and group reductions for kernels whose warp and group sizes are whatever the accelerator has (32 and up to
/// 1024 on CUDA, a few threads on ILGPU's CPU accelerator). Groups are a power of two in size (<see cref="Execution.GpuGeometry"/>).
/// </summary>
internal static class Reductions
{
    /// <summary>Maximum threads per group any launch uses; the size of the shared scratch of group reductions.</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>The warp's sum, valid in lane 0.</summary>
    public static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleDown(value, offset);
        return value;
    }

    /// <summary>The group's sum, returned to every thread (all threads must call it).</summary>
    public static float GroupSum(float value)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroupSize);
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] += scratch[t + half];
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>The group's sum in f64, returned to every thread.</summary>
    public static double GroupSum(double value)
    {
        var scratch = SharedMemory.Allocate<double>(MaxGroupSize);
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] += scratch[t + half];
            Group.Barrier();
        }
        double result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>The group's maximum, returned to every thread (exact whatever the order).</summary>
    public static float GroupMax(float value)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroupSize);
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = XMath.Max(scratch[t], scratch[t + half]);
            Group.Barrier();
        }
        float result = scratch[0];
        Group.Barrier();
        return result;
    }
}
