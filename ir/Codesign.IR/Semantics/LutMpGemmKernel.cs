using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Semantics;

/// <summary>
/// T-MAC's LUT-mpGEMM as integer semantics every backend reproduces bit for bit.
/// <list type="bullet">
/// <item>A code is read as B one-bit planes (B = 2 for 1–2-bit and ternary codes, 4 for 3–4-bit: missing
/// planes are zero bits), each bit as ±1: c = ½·Σ_p 2^p·s_p + (2^B − 1)/2.</item>
/// <item>Per quant group, activations go in runs of four (the last run of a group padded with zeros). A run's
/// table holds the 16 sums Σ_j ±x_j (bit j of the index set: +x_j), added in j order in f32; T[15 − i] = −T[i],
/// so only T[0..7] are stored.</item>
/// <item>Tables are int8: per (token, quant group) ts = max over its runs of Σ_j |x_j| / 127, entry =
/// round-half-even(T / ts) clamped to ±127 (0 when ts is 0).</item>
/// <item>Per row and group the integer S = Σ_p 2^p Σ_runs E[index_p] is exact, and
/// y += scale · ((½·ts)·S + ((2^B − 1)/2 − zero)·Σx) in f32, groups in order, Σx summed in column order.</item>
/// </list>
/// </summary>
public static class LutMpGemmKernel
{
    public const int RunLength = 4;
    public const int StoredEntries = 8;
    public const int TableMax = 127;

    public static bool Supports(QuantScheme scheme) => scheme.Bits <= 4;

    /// <summary>Bit planes the lookup reads per code: 2 or 4 (pairs of planes share one widening multiply-add).</summary>
    public static int Planes(QuantScheme scheme) => scheme.Bits <= 2 ? 2 : Supports(scheme) ? 4
        : throw new ArgumentException($"LUT-mpGEMM takes 1–4-bit weights, not {scheme}");

    /// <summary>(2^B − 1)/2 − zero: the per-group offset that turns ±1 planes back into codes minus the zero point.</summary>
    public static float Offset(int planes, int zero) => (float)(((1 << planes) - 1) / 2.0 - zero);

    /// <summary>The 16 f32 sums of one run, T[i] = Σ_j (bit j of i ? x_j : −x_j) in j order.</summary>
    public static float Entry(ReadOnlySpan<float> run, int index)
    {
        float t = (index & 1) != 0 ? run[0] : -run[0];
        for (int j = 1; j < RunLength; j++) t += (index >> j & 1) != 0 ? run[j] : -run[j];
        return t;
    }

    /// <summary>Σ_j |x_j| in j order: the largest |T[i]| of a run.</summary>
    public static float AbsSum(ReadOnlySpan<float> run) => ((MathF.Abs(run[0]) + MathF.Abs(run[1])) + MathF.Abs(run[2])) + MathF.Abs(run[3]);

    public static sbyte Quantize(float entry, float ts) =>
        ts == 0f ? (sbyte)0 : (sbyte)Math.Clamp((int)MathF.Round(entry / ts, MidpointRounding.ToEven), -TableMax, TableMax);

    /// <summary>One token's tables for one quant group: ts, Σx and the stored entries [runs, 8].</summary>
    public sealed record GroupTables(float Scale, float Sum, sbyte[] Entries)
    {
        public int Lookup(int run, int index) => index < StoredEntries ? Entries[run * StoredEntries + index] : -Entries[run * StoredEntries + 15 - index];
    }

    public static int Runs(int groupLength) => (groupLength + RunLength - 1) / RunLength;

    public static GroupTables BuildTables(ReadOnlySpan<float> group)
    {
        int runs = Runs(group.Length);
        Span<float> run = stackalloc float[RunLength];
        float ts = 0f, sum = 0f;
        foreach (float v in group) sum += v;
        for (int r = 0; r < runs; r++)
        {
            Fill(group, r, run);
            ts = MathF.Max(ts, AbsSum(run));
        }
        ts /= TableMax;
        var entries = new sbyte[runs * StoredEntries];
        for (int r = 0; r < runs; r++)
        {
            Fill(group, r, run);
            for (int i = 0; i < StoredEntries; i++) entries[r * StoredEntries + i] = Quantize(Entry(run, i), ts);
        }
        return new GroupTables(ts, sum, entries);
    }

    private static void Fill(ReadOnlySpan<float> group, int run, Span<float> dest)
    {
        for (int j = 0; j < RunLength; j++)
        {
            int c = run * RunLength + j;
            dest[j] = c < group.Length ? group[c] : 0f;
        }
    }

    /// <summary>Plane <paramref name="plane"/>'s 4-bit table index of a run of codes (bit j from code j; padding reads 0).</summary>
    public static int Index(ReadOnlySpan<byte> codes, int run, int plane)
    {
        int index = 0;
        for (int j = 0; j < RunLength; j++)
        {
            int c = run * RunLength + j;
            if (c < codes.Length) index |= (codes[c] >> plane & 1) << j;
        }
        return index;
    }

    public static float[] Evaluate(ReadOnlyMemory<float> x, QuantizedMatrix w, int m)
    {
        int n = w.Rows, k = w.Cols, g = w.GroupLength, groups = w.Groups, planes = Planes(w.Scheme);
        var y = new float[(long)m * n];
        for (int row = 0; row < m; row++)
        {
            var tables = new GroupTables[groups];
            for (int gi = 0; gi < groups; gi++)
            {
                int start = gi * g;
                tables[gi] = BuildTables(x.Span.Slice(row * k + start, Math.Min(g, k - start)));
            }
            int token = row;
            Parallel.For(0, n, col =>
            {
                var codes = w.Codes.AsSpan((int)((long)col * k), k);
                float acc = 0f;
                for (int gi = 0; gi < groups; gi++)
                {
                    int start = gi * g, len = Math.Min(g, k - start);
                    var groupCodes = codes.Slice(start, len);
                    var t = tables[gi];
                    long s = 0;
                    for (int p = 0; p < planes; p++)
                    {
                        long plane = 0;
                        for (int r = 0; r < Runs(len); r++) plane += t.Lookup(r, Index(groupCodes, r, p));
                        s += plane << p;
                    }
                    acc += w.Scale(col, gi) * (0.5f * t.Scale * s + Offset(planes, w.Zero(col, gi)) * t.Sum);
                }
                y[(long)token * n + col] = acc;
            });
        }
        return y;
    }
}
