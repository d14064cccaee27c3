using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>Where one layer's activation tables live: entries [tokens, groups, runs, 8] int8, ts and Σx [tokens, groups].</summary>
internal struct LutTables
{
    public ArrayView<sbyte> Entries;
    public ArrayView<float> Scales, Sums;
    public int Groups, RunsPerGroup;

    public readonly int Lookup(long table, int run, int index) =>
        index < 8 ? Entries[(table * RunsPerGroup + run) * 8 + index] : -Entries[(table * RunsPerGroup + run) * 8 + 15 - index];
}

/// <summary>
/// T-MAC's LUT-mpGEMM (op lut.mpgemm) bit-exact with <c>LutMpGemmKernel</c>: tables built once per token and weight
/// group and shared by every output row (as LUT Tensor Core precomputes them), then per row the exact integer sum of
/// looked-up entries over bit planes, with the f32 epilogue applied group by group in order.
/// </summary>
internal static class LutKernels
{
    /// <summary>One thread per (token, group): Σx in column order, ts = max run |Σ| / 127, entries rounded half to even.</summary>
    public static void BuildTables(ArrayView<float> x, LutTables tables, int m, int k, int groupLength)
    {
        for (long item = Grid.GlobalIndex.X; item < (long)m * tables.Groups; item += (long)Grid.DimX * Group.DimX)
        {
            long t = item / tables.Groups;
            int group = (int)(item % tables.Groups);
            int start = group * groupLength, len = start + groupLength < k ? groupLength : k - start;
            long xs = t * k + start;
            float sum = 0f;
            for (int c = 0; c < len; c++) sum += x[xs + c];
            int runs = (len + 3) / 4;
            float ts = 0f;
            for (int r = 0; r < runs; r++)
            {
                float abs = ((XMath.Abs(Run(x, xs, len, r, 0)) + XMath.Abs(Run(x, xs, len, r, 1))) + XMath.Abs(Run(x, xs, len, r, 2))) + XMath.Abs(Run(x, xs, len, r, 3));
                ts = XMath.Max(ts, abs);
            }
            ts /= 127;
            for (int r = 0; r < runs; r++)
                for (int i = 0; i < 8; i++)
                {
                    float e = (i & 1) != 0 ? Run(x, xs, len, r, 0) : -Run(x, xs, len, r, 0);
                    for (int j = 1; j < 4; j++) e += (i >> j & 1) != 0 ? Run(x, xs, len, r, j) : -Run(x, xs, len, r, j);
                    int q = ts == 0f ? 0 : (int)XMath.RoundToEven(e / ts);
                    tables.Entries[(item * tables.RunsPerGroup + r) * 8 + i] = (sbyte)(q < -127 ? -127 : q > 127 ? 127 : q);
                }
            tables.Scales[item] = ts;
            tables.Sums[item] = sum;
        }
    }

    private static float Run(ArrayView<float> x, long start, int len, int run, int j)
    {
        int c = run * 4 + j;
        return c < len ? x[start + c] : 0f;
    }

    /// <summary>Grid: ceil(n / warps per group) groups, one warp per output row; lanes take weight groups.</summary>
    public static void Gemv(LutTables tables, ArrayView<float> y, QuantizedRows w, int m, int planes)
    {
        int warpsPerGroup = Group.DimX / Warp.WarpSize;
        int row = Grid.IdxX * warpsPerGroup + Warp.WarpIdx;
        if (row >= w.N) return;
        int lanes = Warp.WarpSize, lane = Warp.LaneIdx;
        for (int t = 0; t < m; t++)
        {
            float acc = 0f;
            for (int g0 = 0; g0 < w.Groups; g0 += lanes)
            {
                int group = g0 + lane;
                float term = 0f;
                if (group < w.Groups)
                {
                    int start = group * w.GroupLength, len = start + w.GroupLength < w.K ? w.GroupLength : w.K - start;
                    long table = (long)t * tables.Groups + group;
                    int runs = (len + 3) / 4;
                    int s = 0;
                    for (int p = 0; p < planes; p++)
                    {
                        int plane = 0;
                        for (int r = 0; r < runs; r++)
                        {
                            int index = 0;
                            for (int j = 0; j < 4; j++)
                            {
                                int c = r * 4 + j;
                                if (c < len) index |= (w.Code(row, start + c) >> p & 1) << j;
                            }
                            plane += tables.Lookup(table, r, index);
                        }
                        s += plane << p;
                    }
                    float offset = ((1 << planes) - 1) * 0.5f - w.Zero(row, group);
                    term = w.Scale(row, group) * (0.5f * tables.Scales[table] * s + offset * tables.Sums[table]);
                }
                for (int j = 0; j < lanes && g0 + j < w.Groups; j++) acc += Warp.Shuffle(term, j);
            }
            if (Warp.IsFirstLane) y[(long)t * w.N + row] = acc;
        }
    }
}
