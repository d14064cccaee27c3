using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// N:M sparse weights: per row, the kept values of each window of M columns in order (N per window, f32) and each
/// one's column within its window (one byte). Fixed N per window makes a tile's entries a contiguous run, so
/// <see cref="FillTile"/> loads them as sparse and expands them to a dense tile (Flash-LLM's load-as-sparse,
/// compute-as-dense).
/// </summary>
internal struct NOfMRows : IWeightRows
{
    public ArrayView<float> Values;
    public ArrayView<byte> Offsets;
    public int Rows, K, N, M, PerRow;

    public readonly float RowDot(int n, ArrayView<float> x, int lane, int lanes)
    {
        long row = (long)n * PerRow;
        float s = 0f;
        for (int p = lane; p < PerRow; p += lanes)
            s += Values[row + p] * x[p / N * M + Offsets[row + p]];
        return s;
    }

    public readonly void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads)
    {
        const int tk = LinearKernels.TileK, stride = LinearKernels.TileStride;
        for (int i = thread; i < rows * stride; i += threads) tile[i] = 0f;
        Group.Barrier();
        int first = k0 / M * N, last = (k0 + tk + M - 1) / M * N;
        if (last > PerRow) last = PerRow;
        int span = last - first;
        for (int i = thread; i < rows * span; i += threads)
        {
            int r = i / span, p = first + i % span;
            if (n0 + r >= Rows) continue;
            long at = (long)(n0 + r) * PerRow + p;
            int c = p / N * M + Offsets[at] - k0;
            if (c >= 0 && c < tk) tile[r * stride + c] = Values[at];
        }
    }
}

/// <summary>
/// Any other sparsity (blocks, unstructured): per row up to <see cref="PerRow"/> kept values with their columns in
/// increasing order, short rows padded with zero values at column K − 1 so columns stay sorted (ELLPACK).
/// </summary>
internal struct EllRows : IWeightRows
{
    public ArrayView<float> Values;
    public ArrayView<int> Columns;
    public int Rows, K, PerRow;

    public readonly float RowDot(int n, ArrayView<float> x, int lane, int lanes)
    {
        long row = (long)n * PerRow;
        float s = 0f;
        for (int p = lane; p < PerRow; p += lanes) s += Values[row + p] * x[Columns[row + p]];
        return s;
    }

    public readonly void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads)
    {
        const int tk = LinearKernels.TileK, stride = LinearKernels.TileStride;
        for (int i = thread; i < rows * stride; i += threads) tile[i] = 0f;
        Group.Barrier();
        // One thread per tile row: binary search for the first entry at or after k0, then scatter up to k0 + TK.
        for (int r = thread; r < rows; r += threads)
        {
            if (n0 + r >= Rows) continue;
            long row = (long)(n0 + r) * PerRow;
            int lo = 0, hi = PerRow;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (Columns[row + mid] < k0) lo = mid + 1;
                else hi = mid;
            }
            for (int p = lo; p < PerRow; p++)
            {
                int c = Columns[row + p] - k0;
                if (c >= tk) break;
                tile[r * stride + c] += Values[row + p];
            }
        }
    }
}
