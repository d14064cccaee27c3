using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>Output dims (padded with 1 in front to rank 4) and, per output axis, the stride of the input axis it reads.</summary>
internal readonly record struct TransposeShape(int D0, int D1, int D2, int D3, long S0, long S1, long S2, long S3);

/// <summary>Embedding lookups, rotary embeddings and transposes: one thread per output element.</summary>
internal static class ShapeKernels
{
    /// <summary>y[t, :] = table[ids[t], :]; ids are checked on the host before they are uploaded.</summary>
    public static void Embedding(ArrayView<int> ids, ArrayView<float> table, ArrayView<float> y, int d)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX)
        {
            long token = i / d;
            y[i] = table[(long)ids[token] * d + i % d];
        }
    }

    /// <summary>y = rope(x) for x [tokens, heads, headDim], one thread per element.</summary>
    public static void Rope(ArrayView<float> x, RotaryEmbedding rope, ArrayView<float> y, int heads, int headDim)
    {
        for (long e = Grid.GlobalIndex.X; e < x.Length; e += (long)Grid.DimX * Group.DimX)
        {
            long row = e / headDim;
            y[e] = rope.At(x, row * headDim, (int)(e - row * headDim), headDim, row / heads);
        }
    }

    public static void Transpose(ArrayView<float> x, ArrayView<float> y, TransposeShape s)
    {
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += (long)Grid.DimX * Group.DimX)
        {
            long rest = i;
            long i3 = rest % s.D3; rest /= s.D3;
            long i2 = rest % s.D2; rest /= s.D2;
            long i1 = rest % s.D1; rest /= s.D1;
            y[i] = x[rest * s.S0 + i1 * s.S1 + i2 * s.S2 + i3 * s.S3];
        }
    }
}
