using ILGPU;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// Decode GEMV (a few tokens) for group-wise codes whose width divides 32 (1, 2, 4 and 8 bits) and whose groups are a
/// power of two of whole 32-bit words, or the whole row: the W8, W4 and W2 formats of a compressed model, laid out as
/// <see cref="QuantizedRows"/> says. Made for the memory-bandwidth limit on CUDA:
/// <list type="bullet">
/// <item>a group of threads computes <see cref="RowGroupReduction.Rows"/> rows over the whole of K, its warps splitting K and
/// summing in shared memory, so even 4096 rows give thousands of warps to hide memory latency;</item>
/// <item>thread i reads words i, i + threads, … of each row, so a warp's code loads are 128 contiguous bytes;</item>
/// <item>x is read in 16-byte quads, each used by all the group's rows;</item>
/// <item>a code becomes a float by OR-ing it into the mantissa of 2^23 and subtracting 2^23 + zero, exact and without an
/// int-to-float conversion (a quarter of the FMA rate on NVIDIA GPUs); a word's dot product is scaled once.</item>
/// </list>
/// Both dequantization orders (scale per weight, or per group as MixPE) round the same sums differently; this kernel
/// scales per word, within the f32 tolerance of either. One launch computes up to three weights of one x, or the
/// silu(gate)·up of a gate and up pair (<see cref="WordGemvMatrices"/>); <see cref="WordGemvFusion"/> folds the rms_norm
/// before it and the residual add after it into the same launch.
/// </summary>
internal static class WordCodeGemv
{
    /// <summary>2^23 as f32 bits: a code below 2^23 OR-ed into the mantissa reads as 2^23 + code.</summary>
    private const uint FloatMagic = 0x4B000000;

    /// <summary>
    /// log2 of the words per group (31 for one group per row), or −1 where this kernel does not apply (a width not
    /// dividing 32, or groups not a power of two of whole words).
    /// </summary>
    public static int GroupWordShift(int bits, int groupLength, int groups)
    {
        if (bits is not (1 or 2 or 4 or 8)) return -1;
        if (groups == 1) return 31;
        int perWord = 32 / bits;
        if (groupLength % perWord != 0) return -1;
        int words = groupLength / perWord;
        return (words & (words - 1)) == 0 ? System.Numerics.BitOperations.Log2((uint)words) : -1;
    }

    /// <summary>Threads per group for rows of <paramref name="k"/> codes (<see cref="RowGroupReduction.Threads"/>).</summary>
    public static int Threads(int k, int bits, int warpSize, int groupSize)
    {
        int words = (k * bits + 31) / 32;
        return RowGroupReduction.Threads(words, warpSize, groupSize);
    }

    /// <summary>
    /// y[t, n] = Σ_k x[t, k] · w[n, k] for t &lt; <paramref name="m"/>, for each of <paramref name="matrices"/> (one to
    /// three sharing x, K and the code format: a launch for q, k and v). Grid: <see cref="WordGemvMatrices.Groups"/> groups of
    /// <see cref="Threads"/> threads. <paramref name="x"/> starts 16-byte aligned (every
    /// device tensor does); rows of x are read in quads when K is a multiple of 4.
    /// </summary>
    public static void Gemv<TWidth>(ArrayView<float> x, WordGemvMatrices matrices, int m, int groupWordShift, WordGemvFusion fusion)
        where TWidth : struct, ICodeWidth
    {
        int rowGroup = Grid.IdxX;
        QuantizedRows w;
        ArrayView<float> y;
        bool gated = matrices.GatedPairs != 0;
        if (rowGroup < matrices.EndA)
        {
            w = matrices.A;
            y = matrices.YA;
        }
        else if (rowGroup < matrices.EndB)
        {
            w = matrices.B;
            y = matrices.YB;
            rowGroup -= matrices.EndA;
        }
        else
        {
            w = matrices.C;
            y = matrices.YC;
            rowGroup -= matrices.EndB;
        }
        // Rows 2 and 3 come from wb: in a gated launch B's rows of the same indices as rows 0 and 1, else w's next two.
        var wb = gated ? matrices.B : w;
        int bits = default(TWidth).Bits, perWord = 32 / bits;
        uint mask = (1u << bits) - 1;
        var partial = SharedMemory.Allocate<float>(RowGroupReduction.SharedFloats);
        var quads = x.Cast<FloatQuad>();
        var gains = fusion.NormGain.Cast<FloatQuad>();
        bool norm = fusion.NormGain.Length > 0;
        bool quadAligned = (w.K & 3) == 0;
        int row0 = rowGroup * (gated ? RowGroupReduction.Rows / 2 : RowGroupReduction.Rows);
        int row1 = RowGroupReduction.Row(row0, 1, w.N);
        int row2 = gated ? row0 : RowGroupReduction.Row(row0, 2, w.N), row3 = gated ? row1 : RowGroupReduction.Row(row0, 3, w.N);
        long c0 = (long)row0 * w.RowWords, c1 = (long)row1 * w.RowWords, c2 = (long)row2 * w.RowWords, c3 = (long)row3 * w.RowWords;
        long g0 = (long)row0 * w.Groups, g1 = (long)row1 * w.Groups, g2 = (long)row2 * w.Groups, g3 = (long)row3 * w.Groups;
        int fullWords = w.K / perWord, thread = Group.IdxX, threads = Group.DimX;
        // The word holding the last codes of a row whose K is not a multiple of the codes per word.
        int tailThread = w.K % perWord != 0 ? fullWords % threads : -1;
        for (int t = 0; t < m; t++)
        {
            long xt = (long)t * w.K;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, squares = 0f;
            for (int j = thread; j < fullWords; j += threads)
            {
                int g = j >> groupWordShift;
                uint w0 = w.Codes[c0 + j], w1 = w.Codes[c1 + j], w2 = wb.Codes[c2 + j], w3 = wb.Codes[c3 + j];
                float z0 = ZeroMagic(w, g0 + g), z1 = ZeroMagic(w, g1 + g), z2 = ZeroMagic(wb, g2 + g), z3 = ZeroMagic(wb, g3 + g);
                float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
                long xw = xt + (long)j * perWord;
                for (int q = 0; q < perWord; q += 4)
                {
                    var xq = quadAligned ? quads[(xw + q) >> 2] : Quad(x, xw + q);
                    if (norm)
                    {
                        // rms_norm(x)·w = inv_rms · Σ (x·gain)·w: the scale waits for the whole row's Σ x², at the end.
                        squares += xq.X * xq.X + xq.Y * xq.Y + xq.Z * xq.Z + xq.W * xq.W;
                        var gq = gains[(j * perWord + q) >> 2];
                        xq.X *= gq.X;
                        xq.Y *= gq.Y;
                        xq.Z *= gq.Z;
                        xq.W *= gq.W;
                    }
                    int shift = q * bits;
                    d0 = Dot4(w0 >> shift, mask, bits, xq, z0, d0);
                    d1 = Dot4(w1 >> shift, mask, bits, xq, z1, d1);
                    d2 = Dot4(w2 >> shift, mask, bits, xq, z2, d2);
                    d3 = Dot4(w3 >> shift, mask, bits, xq, z3, d3);
                }
                a0 += w.Scales[g0 + g] * d0;
                a1 += w.Scales[g1 + g] * d1;
                a2 += wb.Scales[g2 + g] * d2;
                a3 += wb.Scales[g3 + g] * d3;
            }
            if (thread == tailThread)
            {
                int j = fullWords, g = j >> groupWordShift;
                uint w0 = w.Codes[c0 + j], w1 = w.Codes[c1 + j], w2 = wb.Codes[c2 + j], w3 = wb.Codes[c3 + j];
                float z0 = ZeroMagic(w, g0 + g), z1 = ZeroMagic(w, g1 + g), z2 = ZeroMagic(wb, g2 + g), z3 = ZeroMagic(wb, g3 + g);
                float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
                for (int i = 0; i < w.K - j * perWord; i++)
                {
                    int c = j * perWord + i, shift = i * bits;
                    float xv = x[xt + c];
                    if (norm)
                    {
                        squares += xv * xv;
                        xv *= fusion.NormGain[c];
                    }
                    d0 += xv * Centered(w0 >> shift, mask, z0);
                    d1 += xv * Centered(w1 >> shift, mask, z1);
                    d2 += xv * Centered(w2 >> shift, mask, z2);
                    d3 += xv * Centered(w3 >> shift, mask, z3);
                }
                a0 += w.Scales[g0 + g] * d0;
                a1 += w.Scales[g1 + g] * d1;
                a2 += wb.Scales[g2 + g] * d2;
                a3 += wb.Scales[g3 + g] * d3;
            }
            if (gated) RowGroupReduction.StoreGated(partial, a0, a1, a2, a3, squares, y, t, row0, w.N, fusion);
            else RowGroupReduction.Store(partial, a0, a1, a2, a3, squares, y, t, row0, w.N, fusion);
        }
    }

    /// <summary>2^23 + the zero point, as f32: subtracting it from a code's magic float leaves code − zero exactly.</summary>
    private static float ZeroMagic(QuantizedRows w, long group) =>
        Interop.IntAsFloat(FloatMagic | (uint)(w.Zeros.Length > 0 ? w.Zeros[group] : w.ImplicitZero));

    private static float Centered(uint codes, uint mask, float zeroMagic) => Interop.IntAsFloat((codes & mask) | FloatMagic) - zeroMagic;

    /// <summary><paramref name="d"/> + Σ_i x_i · (code_i − zero) over the four codes in the low bits of <paramref name="codes"/>.</summary>
    private static float Dot4(uint codes, uint mask, int bits, FloatQuad x, float zeroMagic, float d)
    {
        d += x.X * Centered(codes, mask, zeroMagic);
        d += x.Y * Centered(codes >> bits, mask, zeroMagic);
        d += x.Z * Centered(codes >> (2 * bits), mask, zeroMagic);
        d += x.W * Centered(codes >> (3 * bits), mask, zeroMagic);
        return d;
    }

    private static FloatQuad Quad(ArrayView<float> x, long at) => new() { X = x[at], Y = x[at + 1], Z = x[at + 2], W = x[at + 3] };
}

/// <summary>
/// What <see cref="WordCodeGemv"/> folds into its launch (empty views: nothing). <see cref="NormGain"/>: x is the input of
/// an rms_norm with this gain and <see cref="NormEps"/>, applied in the GEMV (each group sums x² as it reads x, and scales
/// its dots by the inverse rms at the end; <see cref="NormInverseLength"/> is 1/K, so the kernel converts no integer).
/// <see cref="Residual"/>: added to each output ([m, N], like y).
/// </summary>
internal struct WordGemvFusion
{
    public ArrayView<float> NormGain;
    public float NormEps, NormInverseLength;
    public ArrayView<float> Residual;
}

/// <summary>
/// The one to three matrices a <see cref="WordCodeGemv"/> launch computes, with their outputs: the first
/// <see cref="EndA"/> groups of the grid take rows of A, the groups up to <see cref="EndB"/> rows of B, the rest rows of C.
/// </summary>
internal struct WordGemvMatrices
{
    public QuantizedRows A, B, C;
    public ArrayView<float> YA, YB, YC;
    public int EndA, EndB, Groups;
    /// <summary>
    /// Non-zero: A is a gate and B an up projection of the same N, and YA gets silu(A·x) ⊙ (B·x): each group takes two
    /// rows of each (see <see cref="Gated"/>).
    /// </summary>
    public int GatedPairs;

    /// <summary>
    /// The LLaMA MLP's silu(gate·x) ⊙ (up·x) in one launch, without writing either product: group i computes rows 2i and
    /// 2i + 1 of both and multiplies them in its epilogue.
    /// </summary>
    public static WordGemvMatrices Gated(QuantizedRows gate, QuantizedRows up)
    {
        if (gate.N != up.N) throw new ArgumentException($"a gated launch pairs rows of weights of one height, not {gate.N} and {up.N}");
        int groups = (gate.N + 1) / 2;
        return new WordGemvMatrices { A = gate, B = up, C = up, EndA = groups, EndB = groups, Groups = groups, GatedPairs = 1 };
    }

    /// <param name="weights">One to three weights with the same K and code format (outputs are set per launch).</param>
    public static WordGemvMatrices Of(IReadOnlyList<QuantizedRows> weights)
    {
        if (weights.Count is < 1 or > 3) throw new ArgumentException($"a word GEMV launch computes one to three matrices, not {weights.Count}");
        static int GroupsOf(QuantizedRows w) => (w.N + RowGroupReduction.Rows - 1) / RowGroupReduction.Rows;
        var m = new WordGemvMatrices { A = weights[0], EndA = GroupsOf(weights[0]) };
        m.EndB = m.Groups = m.EndA;
        if (weights.Count > 1)
        {
            m.B = weights[1];
            m.EndB = m.Groups = m.EndA + GroupsOf(m.B);
        }
        if (weights.Count > 2)
        {
            m.C = weights[2];
            m.Groups = m.EndB + GroupsOf(m.C);
        }
        return m;
    }
}
