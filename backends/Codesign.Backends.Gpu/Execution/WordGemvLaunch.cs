using Codesign.Backends.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// A <see cref="WordCodeGemv"/> launch prepared once, at lowering: the kernel compiled for the code width, the grid,
/// the group-word shift and the weights. Decode enqueues it every token with only x, the outputs and the fusion, so the
/// per-token host work is the launch itself (a LLaMA-7B decode step enqueues about 200).
/// </summary>
internal sealed class WordGemvLaunch
{
    private readonly GpuKernels _kernels;
    private readonly int _bits, _shift, _weights;
    private readonly KernelConfig _config;
    private readonly WordGemvMatrices _matrices;
    private Action<KernelConfig, ArrayView<float>, WordGemvMatrices, int, int, WordGemvFusion>? _kernel;

    private WordGemvLaunch(GpuDevice device, IReadOnlyList<QuantizedRows> weights, WordGemvMatrices matrices)
    {
        var rows = weights[0];
        _shift = WordCodeGemv.GroupWordShift(rows.Bits, rows.GroupLength, rows.Groups);
        if (_shift < 0 || weights.Any(w => w.K != rows.K || w.Bits != rows.Bits || w.GroupLength != rows.GroupLength || w.Groups != rows.Groups))
            throw new InvalidOperationException("weights of one word GEMV launch share K, the code width and the groups, and the word kernel takes them");
        _kernels = device.Kernels;
        _bits = rows.Bits;
        _weights = weights.Count;
        _matrices = matrices;
        var geometry = device.Geometry;
        _config = GpuRunState.Groups(matrices.Groups, WordCodeGemv.Threads(rows.K, rows.Bits, geometry.WarpSize, geometry.GroupSize));
    }

    /// <summary>Whether the word kernel takes these codes (widths dividing 32, groups a power of two of whole words).</summary>
    public static bool Takes(QuantizedRows rows) => WordCodeGemv.GroupWordShift(rows.Bits, rows.GroupLength, rows.Groups) >= 0;

    /// <summary>One to three weights reading the same x (same K and code format: q, k and v), each into its own output.</summary>
    public static WordGemvLaunch Siblings(GpuDevice device, IReadOnlyList<QuantizedRows> weights) => new(device, weights, WordGemvMatrices.Of(weights));

    /// <summary>silu(gate · x) ⊙ (up · x) into one output (<see cref="WordGemvMatrices.Gated"/>).</summary>
    public static WordGemvLaunch Gated(GpuDevice device, QuantizedRows gate, QuantizedRows up) => new(device, [gate, up], WordGemvMatrices.Gated(gate, up));

    /// <summary>
    /// Enqueues the launch for <paramref name="m"/> tokens of <paramref name="x"/>: outputs in the order of the weights
    /// (one for a gated launch); a residual in <paramref name="fusion"/> only with one weight.
    /// </summary>
    public void Enqueue(ArrayView<float> x, int m, WordGemvFusion fusion, ArrayView<float> ya, ArrayView<float> yb = default, ArrayView<float> yc = default)
    {
        if (fusion.Residual.Length > 0 && (_weights > 1 || _matrices.GatedPairs != 0))
            throw new InvalidOperationException("a residual is added to one weight's output, not to several or to a gated product");
        var matrices = _matrices;
        matrices.YA = ya;
        matrices.YB = yb;
        matrices.YC = yc;
        _kernel ??= _bits switch
        {
            1 => _kernels.WordGemv<OneBitCodes>(),
            2 => _kernels.WordGemv<TwoBitCodes>(),
            4 => _kernels.WordGemv<FourBitCodes>(),
            8 => _kernels.WordGemv<EightBitCodes>(),
            _ => throw new InvalidOperationException($"no word kernel for {_bits}-bit codes"),
        };
        _kernel(_config, x, matrices, m, _shift, fusion);
    }
}
