using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// y[t, n] = Σ_k x[t, k] · w[n, k] for any <see cref="IWeightRows"/> format. GEMV (decode, few tokens): one warp per
/// output row, lanes stride along K, so a weight is read once per token with the decoding in registers. GEMM (prefill):
/// a group computes a [TileM × TileN] block from shared-memory tiles of x and of the decoded weights.
/// </summary>
internal static class LinearKernels
{
    public const int TileM = 16, TileN = 16, TileK = 32;

    /// <summary>Grid: ceil(n / warps per group) groups.</summary>
    public static void Gemv<TW>(ArrayView<float> x, ArrayView<float> y, TW w, int m, int n, int k) where TW : struct, IWeightRows
    {
        int warpsPerGroup = Group.DimX / Warp.WarpSize;
        int row = Grid.IdxX * warpsPerGroup + Warp.WarpIdx;
        if (row >= n) return;
        for (int t = 0; t < m; t++)
        {
            float s = Reductions.WarpSum(w.RowDot(row, x.SubView((long)t * k, k), Warp.LaneIdx, Warp.WarpSize));
            if (Warp.IsFirstLane) y[(long)t * n + row] = s;
        }
    }

    /// <summary>Grid: ceil(n / TileN) · ceil(m / TileM) groups.</summary>
    public static void Gemm<TW>(ArrayView<float> x, ArrayView<float> y, TW w, int m, int n, int k) where TW : struct, IWeightRows
    {
        var xs = SharedMemory.Allocate<float>(TileM * TileK);
        var ws = SharedMemory.Allocate<float>(TileN * TileK);
        var acc = SharedMemory.Allocate<float>(TileM * TileN);
        int tilesN = (n + TileN - 1) / TileN;
        int n0 = Grid.IdxX % tilesN * TileN, t0 = Grid.IdxX / tilesN * TileM;
        int thread = Group.IdxX, threads = Group.DimX;
        for (int i = thread; i < TileM * TileN; i += threads) acc[i] = 0f;
        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            for (int i = thread; i < TileM * TileK; i += threads)
            {
                int t = t0 + i / TileK, c = k0 + i % TileK;
                xs[i] = t < m && c < k ? x[(long)t * k + c] : 0f;
            }
            w.FillTile(ws, n0, k0, thread, threads);
            Group.Barrier();
            for (int i = thread; i < TileM * TileN; i += threads)
            {
                int xo = i / TileN * TileK, wo = i % TileN * TileK;
                float s = acc[i];
                for (int c = 0; c < TileK; c++) s += xs[xo + c] * ws[wo + c];
                acc[i] = s;
            }
            Group.Barrier();
        }
        for (int i = thread; i < TileM * TileN; i += threads)
        {
            int t = t0 + i / TileN, r = n0 + i % TileN;
            if (t < m && r < n) y[(long)t * n + r] = acc[i];
        }
    }
}
