using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// W8A8 / W4A8 (quant.qmatmul with act_bits), bit-exact with the interpreter: activations quantized per token as
/// <c>ActivationQuantizer</c> defines, exact integer dots per weight group, then y = Σ_groups (scale_w · scale_a) · dot
/// in f32 with the groups in order. Lanes compute groups in parallel; the ordered f32 sum passes them lane by lane.
/// </summary>
internal static class IntegerLinearKernels
{
    /// <summary>One group per token row: absmax scale, codes rounded half to even and clamped to ±qmax.</summary>
    public static void QuantizeActivations(ArrayView<float> x, ArrayView<sbyte> codes, ArrayView<float> scales, int k, int qmax)
    {
        long start = (long)Grid.IdxX * k;
        float amax = 0f;
        for (int c = Group.IdxX; c < k; c += Group.DimX) amax = XMath.Max(amax, XMath.Abs(x[start + c]));
        amax = Reductions.GroupMax(amax);
        float scale = amax / qmax;
        for (int c = Group.IdxX; c < k; c += Group.DimX)
        {
            int q = scale == 0f ? 0 : (int)XMath.RoundToEven(x[start + c] / scale);
            codes[start + c] = (sbyte)(q < -qmax ? -qmax : q > qmax ? qmax : q);
        }
        if (Group.IsFirstThread) scales[Grid.IdxX] = scale;
    }

    /// <summary>Grid: ceil(n / warps per group) groups, one warp per output row.</summary>
    public static void Gemv(ArrayView<sbyte> a, ArrayView<float> aScales, ArrayView<float> y, QuantizedRows w, int m)
    {
        int warpsPerGroup = Group.DimX / Warp.WarpSize;
        int row = Grid.IdxX * warpsPerGroup + Warp.WarpIdx;
        if (row >= w.N) return;
        int lanes = Warp.WarpSize, lane = Warp.LaneIdx, k = w.K;
        for (int t = 0; t < m; t++)
        {
            long xs = (long)t * k;
            float aScale = aScales[t];
            float acc = 0f;
            for (int g0 = 0; g0 < w.Groups; g0 += lanes)
            {
                int group = g0 + lane;
                float term = 0f;
                if (group < w.Groups)
                {
                    int start = group * w.GroupLength, end = start + w.GroupLength < k ? start + w.GroupLength : k;
                    int zero = w.Zero(row, group);
                    int dot = 0;
                    for (int c = start; c < end; c++) dot += a[xs + c] * (w.Code(row, c) - zero);
                    term = w.Scale(row, group) * aScale * dot;
                }
                for (int j = 0; j < lanes && g0 + j < w.Groups; j++) acc += Warp.Shuffle(term, j);
            }
            if (Warp.IsFirstLane) y[(long)t * w.N + row] = acc;
        }
    }
}
