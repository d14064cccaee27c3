using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// The shape the decode GEMVs share (<see cref="WordCodeGemv"/>, <see cref="DenseF16Gemv"/>): a group of threads computes
/// <see cref="Rows"/> output rows over the whole of K, each thread a share of K, and sums its four partial dots across the
/// group at the end: warp shuffles, one shared slot per warp, the first four threads adding the warps in order.
/// Its methods are internal: public static void methods in <c>Kernels/</c> are kernels (<see cref="Diagnostics.PtxListing"/>).
/// </summary>
internal static class RowGroupReduction
{
    public const int Rows = 4;
    /// <summary>Bound of a group's warps.</summary>
    public const int MaxWarps = 64;
    /// <summary>Per warp: the four rows' partial dots, then the partial Σ x² of a fused rms_norm.</summary>
    private const int Partials = Rows + 1;
    /// <summary>Shared floats the kernel allocates for <see cref="Store"/>.</summary>
    public const int SharedFloats = Partials * MaxWarps;

    /// <summary>
    /// Row <paramref name="row0"/> + <paramref name="i"/>, or the last of <paramref name="n"/> rows past it: rows past the
    /// last are read (and not written), which keeps a kernel's K loop free of row tests.
    /// </summary>
    internal static int Row(int row0, int i, int n) => row0 + i < n - 1 ? row0 + i : n - 1;

    /// <summary>
    /// Threads per group: enough that each has at least four of a row's <paramref name="units"/> (words, 16-byte chunks),
    /// at most <paramref name="groupSize"/> and <see cref="MaxWarps"/> warps, at least a warp (short rows would otherwise
    /// leave most threads without work).
    /// </summary>
    public static int Threads(int units, int warpSize, int groupSize)
    {
        int threads = warpSize, limit = Math.Min(groupSize, MaxWarps * warpSize);
        while (threads * 2 <= limit && threads * 2 * 4 <= units) threads *= 2;
        return threads;
    }

    /// <summary>
    /// Sums each thread's <paramref name="a0"/>…<paramref name="a3"/> (rows row0…row0+3) and <paramref name="squares"/>
    /// over the group, applies <paramref name="fusion"/> and stores y[t, row] for the rows below <paramref name="n"/>.
    /// Every thread of the group calls it (it has barriers).
    /// </summary>
    internal static void Store(ArrayView<float> partial, float a0, float a1, float a2, float a3, float squares,
        ArrayView<float> y, int t, int row0, int n, WordGemvFusion fusion)
    {
        Gather(partial, a0, a1, a2, a3, squares);
        int thread = Group.IdxX;
        if (thread < Rows && row0 + thread < n)
        {
            float s = RowSum(partial, thread);
            long at = (long)t * n + row0 + thread;
            if (fusion.NormGain.Length > 0) s *= InverseRms(partial, fusion);
            if (fusion.Residual.Length > 0) s += fusion.Residual[at];
            y[at] = s;
        }
        Group.Barrier();
    }

    /// <summary>
    /// A gated group's store: <paramref name="a0"/>, <paramref name="a1"/> are gate rows row0 and row0 + 1,
    /// <paramref name="a2"/>, <paramref name="a3"/> the up rows of the same indices; y[t, row] = silu(gate) · up for the
    /// two rows below <paramref name="n"/>, both scaled by a fused norm's inverse rms first. Every thread calls it.
    /// </summary>
    internal static void StoreGated(ArrayView<float> partial, float a0, float a1, float a2, float a3, float squares,
        ArrayView<float> y, int t, int row0, int n, WordGemvFusion fusion)
    {
        Gather(partial, a0, a1, a2, a3, squares);
        int thread = Group.IdxX;
        if (thread < Rows / 2 && row0 + thread < n)
        {
            float gate = RowSum(partial, thread), up = RowSum(partial, thread + Rows / 2);
            if (fusion.NormGain.Length > 0)
            {
                float inverseRms = InverseRms(partial, fusion);
                gate *= inverseRms;
                up *= inverseRms;
            }
            y[(long)t * n + row0 + thread] = ElementwiseKernels.SiluOf(gate) * up;
        }
        Group.Barrier();
    }

    /// <summary>
    /// As <see cref="Store(ArrayView{float}, float, float, float, float, float, ArrayView{float}, int, int, int, WordGemvFusion)"/>,
    /// nothing fused. Its own body, not the fused one with default views: those would leave generic loads in the PTX
    /// (ILGPU cannot tell a default view's address space).
    /// </summary>
    internal static void Store(ArrayView<float> partial, float a0, float a1, float a2, float a3, ArrayView<float> y, int t, int row0, int n)
    {
        Gather(partial, a0, a1, a2, a3, 0f);
        int thread = Group.IdxX;
        if (thread < Rows && row0 + thread < n) y[(long)t * n + row0 + thread] = RowSum(partial, thread);
        Group.Barrier();
    }

    /// <summary>A fused rms_norm's 1 / rms, from the group's Σ x² (the slot after the rows').</summary>
    private static float InverseRms(ArrayView<float> partial, WordGemvFusion fusion) =>
        XMath.Rsqrt(RowSum(partial, Rows) * fusion.NormInverseLength + fusion.NormEps);

    /// <summary>Each warp's sums into its shared slots, then a barrier.</summary>
    private static void Gather(ArrayView<float> partial, float a0, float a1, float a2, float a3, float squares)
    {
        a0 = Reductions.WarpSum(a0);
        a1 = Reductions.WarpSum(a1);
        a2 = Reductions.WarpSum(a2);
        a3 = Reductions.WarpSum(a3);
        squares = Reductions.WarpSum(squares);
        if (Warp.IsFirstLane)
        {
            int p = Warp.WarpIdx * Partials;
            partial[p] = a0;
            partial[p + 1] = a1;
            partial[p + 2] = a2;
            partial[p + 3] = a3;
            partial[p + 4] = squares;
        }
        Group.Barrier();
    }

    /// <summary>Slot <paramref name="slot"/> summed over the warps in order.</summary>
    private static float RowSum(ArrayView<float> partial, int slot)
    {
        float s = 0f;
        for (int warp = 0; warp < Group.DimX / Warp.WarpSize; warp++) s += partial[warp * Partials + slot];
        return s;
    }
}
