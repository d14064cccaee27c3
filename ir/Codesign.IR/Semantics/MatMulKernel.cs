using System.Numerics;

namespace Codesign.IR.Semantics;

/// <summary>
/// y[M,N] = x[M,K] · w[N,K]ᵀ in f32, vectorised and spread over cores. Every output element is summed
/// in the same order (lane-wise over K, lanes reduced, then the K tail), whichever micro-kernel computes
/// it, so results do not depend on M, on tiling or on the thread count.
/// </summary>
public static unsafe class MatMulKernel
{
    private const int ColumnChunk = 32;

    public static float[] Linear(ReadOnlyMemory<float> x, ReadOnlyMemory<float> w, int m, int n, int k)
    {
        if (x.Length < (long)m * k || w.Length < (long)n * k)
            throw new ArgumentException($"matmul operands too small for [{m},{k}] x [{n},{k}]");
        var y = new float[(long)m * n];
        using var xh = x.Pin();
        using var wh = w.Pin();
        fixed (float* yp = y)
        {
            nint xa = (nint)xh.Pointer, wa = (nint)wh.Pointer, ya = (nint)yp;
            int rowBlocks = (m + 3) / 4;
            int colBlocks = (n + ColumnChunk - 1) / ColumnChunk;
            long work = (long)m * n * k;
            if (work < 1 << 16 || Environment.ProcessorCount == 1)
            {
                for (int t = 0; t < rowBlocks * colBlocks; t++)
                    Tile((float*)xa, (float*)wa, (float*)ya, m, n, k, t / colBlocks, t % colBlocks);
            }
            else
            {
                Parallel.For(0, rowBlocks * colBlocks, t =>
                    Tile((float*)xa, (float*)wa, (float*)ya, m, n, k, t / colBlocks, t % colBlocks));
            }
        }
        return y;
    }

    private static void Tile(float* x, float* w, float* y, int m, int n, int k, int rowBlock, int colBlock)
    {
        int r0 = rowBlock * 4;
        int rows = Math.Min(4, m - r0);
        int c0 = colBlock * ColumnChunk;
        int c1 = Math.Min(n, c0 + ColumnChunk);
        if (rows == 4)
        {
            int c = c0;
            for (; c + 1 < c1; c += 2) Block4x2(x + (long)r0 * k, w + (long)c * k, y + (long)r0 * n + c, n, k);
            for (; c < c1; c++)
                for (int r = 0; r < 4; r++)
                    y[(long)(r0 + r) * n + c] = Dot(x + (long)(r0 + r) * k, w + (long)c * k, k);
        }
        else
        {
            for (int r = r0; r < r0 + rows; r++)
            {
                int c = c0;
                for (; c + 3 < c1; c += 4) Block1x4(x + (long)r * k, w + (long)c * k, y + (long)r * n + c, k);
                for (; c < c1; c++) y[(long)r * n + c] = Dot(x + (long)r * k, w + (long)c * k, k);
            }
        }
    }

    private static void Block4x2(float* x, float* w, float* y, int n, int k)
    {
        int vw = Vector<float>.Count;
        Vector<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float* w0 = w, w1 = w + k;
        float* x0 = x, x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k;
        int i = 0;
        for (; i + vw <= k; i += vw)
        {
            var b0 = Vector.Load(w0 + i);
            var b1 = Vector.Load(w1 + i);
            var v = Vector.Load(x0 + i); a00 = Vector.FusedMultiplyAdd(v, b0, a00); a01 = Vector.FusedMultiplyAdd(v, b1, a01);
            v = Vector.Load(x1 + i); a10 = Vector.FusedMultiplyAdd(v, b0, a10); a11 = Vector.FusedMultiplyAdd(v, b1, a11);
            v = Vector.Load(x2 + i); a20 = Vector.FusedMultiplyAdd(v, b0, a20); a21 = Vector.FusedMultiplyAdd(v, b1, a21);
            v = Vector.Load(x3 + i); a30 = Vector.FusedMultiplyAdd(v, b0, a30); a31 = Vector.FusedMultiplyAdd(v, b1, a31);
        }
        y[0] = Tail(x0, w0, i, k, a00); y[1] = Tail(x0, w1, i, k, a01);
        y[n] = Tail(x1, w0, i, k, a10); y[n + 1] = Tail(x1, w1, i, k, a11);
        y[2 * n] = Tail(x2, w0, i, k, a20); y[2 * n + 1] = Tail(x2, w1, i, k, a21);
        y[3 * n] = Tail(x3, w0, i, k, a30); y[3 * n + 1] = Tail(x3, w1, i, k, a31);
    }

    private static void Block1x4(float* x, float* w, float* y, int k)
    {
        int vw = Vector<float>.Count;
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        float* w0 = w, w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        int i = 0;
        for (; i + vw <= k; i += vw)
        {
            var v = Vector.Load(x + i);
            a0 = Vector.FusedMultiplyAdd(v, Vector.Load(w0 + i), a0);
            a1 = Vector.FusedMultiplyAdd(v, Vector.Load(w1 + i), a1);
            a2 = Vector.FusedMultiplyAdd(v, Vector.Load(w2 + i), a2);
            a3 = Vector.FusedMultiplyAdd(v, Vector.Load(w3 + i), a3);
        }
        y[0] = Tail(x, w0, i, k, a0); y[1] = Tail(x, w1, i, k, a1);
        y[2] = Tail(x, w2, i, k, a2); y[3] = Tail(x, w3, i, k, a3);
    }

    /// <summary>Dot product with the same summation order as the blocked kernels.</summary>
    public static float Dot(float* x, float* w, int k)
    {
        int vw = Vector<float>.Count;
        Vector<float> acc = default;
        int i = 0;
        for (; i + vw <= k; i += vw) acc = Vector.FusedMultiplyAdd(Vector.Load(x + i), Vector.Load(w + i), acc);
        return Tail(x, w, i, k, acc);
    }

    private static float Tail(float* x, float* w, int i, int k, Vector<float> acc)
    {
        float s = Vector.Sum(acc);
        for (; i < k; i++) s = MathF.FusedMultiplyAdd(x[i], w[i], s);
        return s;
    }
}
