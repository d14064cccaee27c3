using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// Decode GEMV for f16 weights whose rows are whole 16-byte chunks (K a multiple of 8), in the shape of
/// <see cref="WordCodeGemv"/>: a group of threads per 4 rows splitting K, each thread reading 8 halves of a row in one
/// 16-byte load (a warp's loads are 512 contiguous bytes) and the matching 8 values of x in two quads shared by the rows.
/// Other f16 matrices take the generic <see cref="LinearKernels.Gemv{TW}"/>.
/// </summary>
internal static class DenseF16Gemv
{
    public const int HalvesPerChunk = 8;

    public static bool Takes(int k) => k % HalvesPerChunk == 0;

    /// <summary>Grid: ceil(N / 4) groups of <see cref="RowGroupReduction.Threads"/> threads over K / 8 chunks.</summary>
    public static void Gemv(ArrayView<float> x, ArrayView<float> y, DenseF16Rows w, int m)
    {
        var partial = SharedMemory.Allocate<float>(RowGroupReduction.SharedFloats);
        var chunks = w.W.Cast<HalfChunk>();
        var quads = x.Cast<FloatQuad>();
        int row0 = Grid.IdxX * RowGroupReduction.Rows;
        int row1 = RowGroupReduction.Row(row0, 1, w.N), row2 = RowGroupReduction.Row(row0, 2, w.N), row3 = RowGroupReduction.Row(row0, 3, w.N);
        int perRow = w.K / HalvesPerChunk, thread = Group.IdxX, threads = Group.DimX;
        long c0 = (long)row0 * perRow, c1 = (long)row1 * perRow, c2 = (long)row2 * perRow, c3 = (long)row3 * perRow;
        for (int t = 0; t < m; t++)
        {
            long xq = (long)t * perRow * 2;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int j = thread; j < perRow; j += threads)
            {
                var lo = quads[xq + 2 * j];
                var hi = quads[xq + 2 * j + 1];
                a0 = Dot8(chunks[c0 + j], lo, hi, a0);
                a1 = Dot8(chunks[c1 + j], lo, hi, a1);
                a2 = Dot8(chunks[c2 + j], lo, hi, a2);
                a3 = Dot8(chunks[c3 + j], lo, hi, a3);
            }
            RowGroupReduction.Store(partial, a0, a1, a2, a3, y, t, row0, w.N);
        }
    }

    private static float Dot8(HalfChunk h, FloatQuad lo, FloatQuad hi, float acc)
    {
        acc += Low(h.A) * lo.X + High(h.A) * lo.Y + Low(h.B) * lo.Z + High(h.B) * lo.W;
        return acc + Low(h.C) * hi.X + High(h.C) * hi.Y + Low(h.D) * hi.Z + High(h.D) * hi.W;
    }

    private static float Low(uint pair) => (float)Interop.IntAsFloat((ushort)(pair & 0xFFFF));

    private static float High(uint pair) => (float)Interop.IntAsFloat((ushort)(pair >> 16));
}

/// <summary>Eight f16 values as four 32-bit words, loaded as one 16-byte access (the first half in the low bits).</summary>
internal struct HalfChunk
{
    public uint A, B, C, D;
}
