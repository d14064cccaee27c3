using ILGPU;
using Half = ILGPU.Half;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// How a linear kernel reads a weight [N, K] on the device. The GEMV and GEMM kernels are generic over it, so every
/// format gets both with its decoding inlined (dequantize-in-register: the decoded weight never reaches memory).
/// </summary>
internal interface IWeightRows
{
    /// <summary>One lane's share of Σ_k w[n, k] · x[k] (lane of <paramref name="lanes"/>); the caller sums the lanes.</summary>
    float RowDot(int n, ArrayView<float> x, int lane, int lanes);

    /// <summary>
    /// Writes w[n0 + r, k0 + c] for r &lt; <paramref name="rows"/>, c &lt; <see cref="LinearKernels.TileK"/> into
    /// <paramref name="tile"/>[r · <see cref="LinearKernels.TileStride"/> + c], zero outside the matrix. Every thread of
    /// the group calls it; it may use barriers.
    /// </summary>
    void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads);
}

/// <summary>f32 weights, row-major.</summary>
internal struct DenseF32Rows(ArrayView<float> w, int n, int k) : IWeightRows
{
    public ArrayView<float> W = w;
    public int N = n, K = k;

    public readonly float RowDot(int n, ArrayView<float> x, int lane, int lanes)
    {
        long row = (long)n * K;
        float s = 0f;
        for (int c = lane; c < K; c += lanes) s += W[row + c] * x[c];
        return s;
    }

    public readonly void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads)
    {
        for (int i = thread; i < rows * LinearKernels.TileK; i += threads)
        {
            int tr = i / LinearKernels.TileK, tc = i - tr * LinearKernels.TileK, r = n0 + tr, c = k0 + tc;
            tile[tr * LinearKernels.TileStride + tc] = r < N && c < K ? W[(long)r * K + c] : 0f;
        }
    }
}

/// <summary>f16 weights, row-major, widened in registers.</summary>
internal struct DenseF16Rows(ArrayView<Half> w, int n, int k) : IWeightRows
{
    public ArrayView<Half> W = w;
    public int N = n, K = k;

    public readonly float RowDot(int n, ArrayView<float> x, int lane, int lanes)
    {
        long row = (long)n * K;
        float s = 0f;
        for (int c = lane; c < K; c += lanes) s += (float)W[row + c] * x[c];
        return s;
    }

    public readonly void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads)
    {
        for (int i = thread; i < rows * LinearKernels.TileK; i += threads)
        {
            int tr = i / LinearKernels.TileK, tc = i - tr * LinearKernels.TileK, r = n0 + tr, c = k0 + tc;
            tile[tr * LinearKernels.TileStride + tc] = r < N && c < K ? (float)W[(long)r * K + c] : 0f;
        }
    }
}
