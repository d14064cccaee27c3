using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// Group-wise quantized weights as <see cref="Execution.QuantizedGpuWeight"/> uploads them: each row's codes bit-packed
/// LSB first exactly as the IR packs them, the row padded to <see cref="RowWords"/> 32-bit words (a whole number of
/// 32-code chunks); f32 scales [N, groups]; zero points [N, groups] for asymmetric schemes, else
/// <see cref="ImplicitZero"/>. Weight = scale · (code − zero).
/// </summary>
internal struct QuantizedRows : IWeightRows
{
    public ArrayView<uint> Codes;
    public ArrayView<float> Scales;
    public ArrayView<byte> Zeros;
    public int N, K, Bits, RowWords, GroupLength, Groups, ImplicitZero;
    /// <summary>MixPE: Σ x·(code − zero) per group, scaled once per group, rather than a scale per weight.</summary>
    public int AccumulateGroups;

    /// <summary>Words of one row: 32 codes take <c>bits</c> words whatever the width.</summary>
    public static int WordsPerRow(int k, int bits) => (k + 31) / 32 * bits;

    public readonly int Zero(int n, int group) => Zeros.Length > 0 ? Zeros[(long)n * Groups + group] : ImplicitZero;

    public readonly float Scale(int n, int group) => Scales[(long)n * Groups + group];

    /// <summary>The code of column <paramref name="c"/> of row <paramref name="n"/> (a code may straddle two words for 3, 5, 6 and 7 bits).</summary>
    public readonly int Code(int n, int c)
    {
        long bit = (long)c * Bits;
        long word = (long)n * RowWords + (bit >> 5);
        int offset = (int)(bit & 31);
        uint v = Codes[word] >> offset;
        if (offset + Bits > 32) v |= Codes[word + 1] << (32 - offset);
        return (int)(v & ((1u << Bits) - 1));
    }

    public readonly float RowDot(int n, ArrayView<float> x, int lane, int lanes)
    {
        int chunks = (K + 31) / 32;
        bool wholeGroups = GroupLength % 32 == 0;
        bool byWord = 32 % Bits == 0;
        int perWord = 32 / Bits;
        uint mask = (1u << Bits) - 1;
        float acc = 0f;
        for (int chunk = lane; chunk < chunks; chunk += lanes)
        {
            int c0 = chunk * 32;
            if (wholeGroups && byWord)
            {
                // The common case (1/2/4/8 bits, groups of 32k): a chunk is one group, each word a whole number of codes.
                int group = c0 / GroupLength;
                float scale = Scale(n, group);
                float zero = Zero(n, group);
                long word = (long)n * RowWords + (long)chunk * Bits;
                float part = 0f;
                for (int wi = 0; wi < Bits; wi++)
                {
                    uint codes = Codes[word + wi];
                    int cw = c0 + wi * perWord;
                    for (int j = 0; j < perWord; j++)
                    {
                        int c = cw + j;
                        if (c < K)
                        {
                            float centered = (int)(codes >> (j * Bits) & mask) - zero;
                            if (AccumulateGroups != 0) part += x[c] * centered;
                            else acc += x[c] * (scale * centered);
                        }
                    }
                }
                if (AccumulateGroups != 0) acc += scale * part;
            }
            else
            {
                int end = c0 + 32 < K ? c0 + 32 : K;
                for (int c = c0; c < end; c++)
                {
                    int group = c / GroupLength;
                    acc += x[c] * (Scale(n, group) * (Code(n, c) - Zero(n, group)));
                }
            }
        }
        return acc;
    }

    public readonly void FillTile(ArrayView<float> tile, int n0, int rows, int k0, int thread, int threads)
    {
        for (int i = thread; i < rows * LinearKernels.TileK; i += threads)
        {
            int tr = i / LinearKernels.TileK, tc = i - tr * LinearKernels.TileK, r = n0 + tr, c = k0 + tc;
            float w = 0f;
            if (r < N && c < K)
            {
                int group = c / GroupLength;
                w = Scale(r, group) * (Code(r, c) - Zero(r, group));
            }
            tile[tr * LinearKernels.TileStride + tc] = w;
        }
    }
}
