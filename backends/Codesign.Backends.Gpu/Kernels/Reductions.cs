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

    /// <summary>The warp's sum, returned to every lane (a butterfly: every lane must call it).</summary>
    public static float WarpSumToAll(float value)
    {
        for (int mask = Warp.WarpSize / 2; mask > 0; mask /= 2) value += Warp.ShuffleXor(value, mask);
        return value;
    }

    /// <summary>The warp's maximum, returned to every lane (every lane must call it).</summary>
    public static float WarpMaxToAll(float value)
    {
        for (int mask = Warp.WarpSize / 2; mask > 0; mask /= 2) value = XMath.Max(value, Warp.ShuffleXor(value, mask));
        return value;
    }

    /// <summary>The group's sum, returned to every thread (all threads must call it).</summary>
    public static float GroupSum(float value) => GroupReduce<float, SumF32>(value);

    /// <summary>The group's sum in f64, returned to every thread.</summary>
    public static double GroupSum(double value) => GroupReduce<double, SumF64>(value);

    /// <summary>The group's maximum, returned to every thread (exact whatever the order).</summary>
    public static float GroupMax(float value) => GroupReduce<float, MaxF32>(value);

    /// <summary>
    /// A tree reduction over the group in shared memory, returned to every thread: halves of the group combine
    /// pairwise, so the order of a float sum is fixed by the group size alone.
    /// </summary>
    private static T GroupReduce<T, TCombine>(T value) where T : unmanaged where TCombine : struct, ICombine<T>
    {
        var scratch = SharedMemory.Allocate<T>(MaxGroupSize);
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] = default(TCombine).Combine(scratch[t], scratch[t + half]);
            Group.Barrier();
        }
        T result = scratch[0];
        Group.Barrier();
        return result;
    }

    private interface ICombine<T> where T : unmanaged
    {
        T Combine(T a, T b);
    }

    private readonly struct SumF32 : ICombine<float>
    {
        public float Combine(float a, float b) => a + b;
    }

    private readonly struct SumF64 : ICombine<double>
    {
        public double Combine(double a, double b) => a + b;
    }

    private readonly struct MaxF32 : ICombine<float>
    {
        public float Combine(float a, float b) => XMath.Max(a, b);
    }
}
