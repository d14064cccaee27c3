using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// y[t, n] = Σ_k x[t, k] · w[n, k] for any <see cref="IWeightRows"/> format. GEMV (decode, few tokens): one warp per
/// output row, lanes stride along K, so a weight is read once per token with the decoding in registers. GEMM (prefill):
/// a group computes a block of tokens × rows from shared-memory tiles of x and of the decoded weights, each thread a
/// <see cref="Micro"/> × <see cref="Micro"/> block of it in registers.
/// </summary>
internal static class LinearKernels
{
    /// <summary>K per shared tile.</summary>
    public const int TileK = 32;
    /// <summary>
    /// Floats per shared tile row: one of padding puts the rows a warp's threads read together (16 apart in a 256-thread
    /// group) in 16 different banks.
    /// </summary>
    public const int TileStride = TileK + 1;
    /// <summary>Outputs per thread along tokens and along rows: 16 in registers, 8 shared reads per 16 FMAs.</summary>
    public const int Micro = 4;
    /// <summary>Most threads per group the GEMM takes (its shared tiles are sized for them).</summary>
    public const int MaxGemmThreads = 256;
    private const int MaxBlock = 16 * Micro;

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

    /// <summary>Threads of a GEMM group along the rows of w (the rest go along tokens): √threads, rounded up to a power of two.</summary>
    internal static int ThreadsAlongRows(int threads)
    {
        int along = 1;
        while (along * along < threads) along *= 2;
        return along;
    }

    /// <summary>Groups of <paramref name="threads"/> threads (a power of two up to <see cref="MaxGemmThreads"/>) for <see cref="Gemm{TW}"/>.</summary>
    public static int GemmGroups(int m, int n, int threads)
    {
        int rowsPerBlock = ThreadsAlongRows(threads) * Micro, tokensPerBlock = threads / ThreadsAlongRows(threads) * Micro;
        return (n + rowsPerBlock - 1) / rowsPerBlock * ((m + tokensPerBlock - 1) / tokensPerBlock);
    }

    /// <summary>
    /// Grid: <see cref="GemmGroups"/>. Thread (i, j) of the group's tm × tn threads computes tokens i + a·tm and rows
    /// j + b·tn (a, b &lt; <see cref="Micro"/>), each sum in the order of k, as the interpreter adds them.
    /// </summary>
    public static void Gemm<TW>(ArrayView<float> x, ArrayView<float> y, TW w, int m, int n, int k) where TW : struct, IWeightRows
    {
        var xs = SharedMemory.Allocate<float>(MaxBlock * TileStride);
        var ws = SharedMemory.Allocate<float>(MaxBlock * TileStride);
        int thread = Group.IdxX, threads = Group.DimX;
        int tn = ThreadsAlongRows(threads), tm = threads / tn;
        int blockTokens = tm * Micro, blockRows = tn * Micro;
        int tilesN = (n + blockRows - 1) / blockRows;
        int n0 = Grid.IdxX % tilesN * blockRows, t0 = Grid.IdxX / tilesN * blockTokens;
        int ti = thread / tn, rj = thread - ti * tn;
        FloatQuad a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            for (int i = thread; i < blockTokens * TileK; i += threads)
            {
                int tr = i / TileK, tc = i - tr * TileK, t = t0 + tr, c = k0 + tc;
                xs[tr * TileStride + tc] = t < m && c < k ? x[(long)t * k + c] : 0f;
            }
            w.FillTile(ws, n0, blockRows, k0, thread, threads);
            Group.Barrier();
            for (int c = 0; c < TileK; c++)
            {
                var b = new FloatQuad
                {
                    X = ws[rj * TileStride + c],
                    Y = ws[(rj + tn) * TileStride + c],
                    Z = ws[(rj + 2 * tn) * TileStride + c],
                    W = ws[(rj + 3 * tn) * TileStride + c],
                };
                a0 = Accumulate(a0, xs[ti * TileStride + c], b);
                a1 = Accumulate(a1, xs[(ti + tm) * TileStride + c], b);
                a2 = Accumulate(a2, xs[(ti + 2 * tm) * TileStride + c], b);
                a3 = Accumulate(a3, xs[(ti + 3 * tm) * TileStride + c], b);
            }
            Group.Barrier();
        }
        Store(y, a0, t0 + ti, n0 + rj, tn, m, n);
        Store(y, a1, t0 + ti + tm, n0 + rj, tn, m, n);
        Store(y, a2, t0 + ti + 2 * tm, n0 + rj, tn, m, n);
        Store(y, a3, t0 + ti + 3 * tm, n0 + rj, tn, m, n);
    }

    /// <summary>acc + x · b, per element (the order a running sum over k adds in).</summary>
    private static FloatQuad Accumulate(FloatQuad acc, float x, FloatQuad b) => new()
    {
        X = acc.X + x * b.X,
        Y = acc.Y + x * b.Y,
        Z = acc.Z + x * b.Z,
        W = acc.W + x * b.W,
    };

    /// <summary>Token <paramref name="t"/>'s outputs at rows r, r + tn, r + 2tn, r + 3tn, those inside y.</summary>
    private static void Store(ArrayView<float> y, FloatQuad sums, int t, int r, int tn, int m, int n)
    {
        if (t >= m) return;
        long o = (long)t * n;
        if (r < n) y[o + r] = sums.X;
        if (r + tn < n) y[o + r + tn] = sums.Y;
        if (r + 2 * tn < n) y[o + r + 2 * tn] = sums.Z;
        if (r + 3 * tn < n) y[o + r + 3 * tn] = sums.W;
    }
}
