using Codesign.Backends.Gpu.Kernels;
using ILGPU;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// The decode GEMV a weight gets: for group-wise codes <see cref="WordCodeGemv"/> (compiled for its code width) where its
/// codes and groups are whole words, for f16 <see cref="DenseF16Gemv"/> where its rows are whole 16-byte chunks, else
/// the generic one-warp-per-row <see cref="LinearKernels.Gemv{TW}"/>. The lowering and the GEMV benchmark both launch
/// through here, so the benchmark times what a model runs.
/// </summary>
internal static class GemvLaunch
{
    public static bool UsesWordKernel(QuantizedRows rows) => WordCodeGemv.GroupWordShift(rows.Bits, rows.GroupLength, rows.Groups) >= 0;

    /// <summary>
    /// Enqueues y[t, :] = w · x[t, :] for t &lt; <paramref name="m"/>, with <paramref name="fusion"/>'s rms_norm before and
    /// residual after (only the word kernel takes them: see <see cref="UsesWordKernel"/>).
    /// </summary>
    public static void Quantized(GpuDevice device, QuantizedRows rows, ArrayView<float> x, ArrayView<float> y, int m, WordGemvFusion fusion = default)
    {
        if (UsesWordKernel(rows))
        {
            Siblings(device, [(rows, y)], x, m, fusion);
            return;
        }
        if (fusion.NormGain.Length > 0 || fusion.Residual.Length > 0)
            throw new InvalidOperationException($"the generic GEMV of {rows.Bits}-bit codes in groups of {rows.GroupLength} fuses nothing");
        var geometry = device.Geometry;
        device.Kernels.Gemv<QuantizedRows>()(GpuRunState.Groups(geometry.WarpRowGroups(rows.N), geometry.GroupSize), x, y, rows, m, rows.N, rows.K);
    }

    /// <summary>
    /// One word-kernel launch for one to three weights reading the same x (same K and code format: q, k and v), each into
    /// its own output; a residual in <paramref name="fusion"/> only with one weight.
    /// </summary>
    public static void Siblings(GpuDevice device, IReadOnlyList<(QuantizedRows Rows, ArrayView<float> Y)> targets, ArrayView<float> x, int m, WordGemvFusion fusion = default)
    {
        if (targets.Count > 1 && fusion.Residual.Length > 0)
            throw new InvalidOperationException("a residual is added to one weight's output, not to several");
        Word(device, [.. targets.Select(t => t.Rows)], WordGemvMatrices.Of(targets), x, m, fusion);
    }

    /// <summary>y[t, :] = silu(gate · x[t, :]) ⊙ (up · x[t, :]) in one word-kernel launch (<see cref="WordGemvMatrices.Gated"/>).</summary>
    public static void Gated(GpuDevice device, QuantizedRows gate, QuantizedRows up, ArrayView<float> x, ArrayView<float> y, int m, WordGemvFusion fusion = default)
    {
        if (fusion.Residual.Length > 0) throw new InvalidOperationException("a gated launch adds no residual");
        Word(device, [gate, up], WordGemvMatrices.Gated(gate, up, y), x, m, fusion);
    }

    private static void Word(GpuDevice device, IReadOnlyList<QuantizedRows> weights, WordGemvMatrices matrices, ArrayView<float> x, int m, WordGemvFusion fusion)
    {
        var rows = weights[0];
        int shift = WordCodeGemv.GroupWordShift(rows.Bits, rows.GroupLength, rows.Groups);
        if (shift < 0 || weights.Any(w => w.K != rows.K || w.Bits != rows.Bits || w.GroupLength != rows.GroupLength || w.Groups != rows.Groups))
            throw new InvalidOperationException("weights of one word GEMV launch share K, the code width and the groups, and the word kernel takes them");
        var geometry = device.Geometry;
        var config = GpuRunState.Groups(matrices.Groups, WordCodeGemv.Threads(rows.K, rows.Bits, geometry.WarpSize, geometry.GroupSize));
        var kernels = device.Kernels;
        switch (rows.Bits)
        {
            case 1: kernels.WordGemv<OneBitCodes>()(config, x, matrices, m, shift, fusion); break;
            case 2: kernels.WordGemv<TwoBitCodes>()(config, x, matrices, m, shift, fusion); break;
            case 4: kernels.WordGemv<FourBitCodes>()(config, x, matrices, m, shift, fusion); break;
            case 8: kernels.WordGemv<EightBitCodes>()(config, x, matrices, m, shift, fusion); break;
            default: throw new InvalidOperationException($"no word kernel for {rows.Bits}-bit codes");
        }
    }

    /// <summary>Enqueues y[t, :] = w · x[t, :] for f16 weights, t &lt; <paramref name="m"/>.</summary>
    public static void DenseF16(GpuDevice device, DenseF16Rows rows, ArrayView<float> x, ArrayView<float> y, int m)
    {
        var geometry = device.Geometry;
        if (!DenseF16Gemv.Takes(rows.K))
        {
            device.Kernels.Gemv<DenseF16Rows>()(GpuRunState.Groups(geometry.WarpRowGroups(rows.N), geometry.GroupSize), x, y, rows, m, rows.N, rows.K);
            return;
        }
        int threads = RowGroupReduction.Threads(rows.K / DenseF16Gemv.HalvesPerChunk, geometry.WarpSize, geometry.GroupSize);
        device.Kernels.DenseF16Gemv(GpuRunState.Groups((rows.N + RowGroupReduction.Rows - 1) / RowGroupReduction.Rows, threads), x, y, rows, m);
    }
}
