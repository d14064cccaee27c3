using System.Numerics;
using Codesign.Backends.Fpga.Rtl;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;

namespace Codesign.Backends.Fpga.Engine;

/// <summary>
/// Maps y = a · wᵀ (activation codes a [m, K], group-wise quantized w [N, K], optionally pruned) onto the beats of
/// a matrix-engine chain, so that the chain's group sums are exactly <c>QMatMulKernel.IntegerGroupDots</c>.
/// <para>
/// Windows of the chain's width start at each group's first column and never cross a group (a group's sum leaves
/// the chain at its last window; a short last window is padded with zero activations). Only kept weights take a
/// lane (load-as-sparse): the chain is cut into segments of the smallest power of two that holds the most weights
/// any row keeps in any window, and that many output columns share every beat: 1 dense row per 16-lane beat of
/// a 16-wide window, 2 rows of a 2:4-sparse matrix.
/// </para>
/// </summary>
public static class MpeStreamMapper
{
    public static MpeStream Map(MpeChainConfig chain, QuantizedMatrix w, bool[]? kept, ReadOnlySpan<int> activationCodes, int m)
    {
        chain.Checked();
        int n = w.Rows, k = w.Cols, g = w.GroupLength, groups = w.Groups, window = chain.Window;
        if (activationCodes.Length != (long)m * k)
            throw new CodesignException($"mpe stream: {activationCodes.Length} activation codes for [{m}, {k}]");
        if (kept is not null && kept.Length != (long)n * k)
            throw new CodesignException($"mpe stream: a mask of {kept.Length} for a [{n}, {k}] matrix");
        foreach (int a in activationCodes)
            if (a is < -128 or > 127) throw new CodesignException($"mpe stream: activation code {a} is not int8");
        var centered = w.CenteredCodes();
        long weightLimit = 1L << (chain.WeightBits - 1);
        foreach (double c in centered)
            if (c < -weightLimit || c >= weightLimit)
                throw new CodesignException($"mpe stream: weight code − zero = {c} does not fit the chain's {chain.WeightBits}-bit signed weights ({w.Scheme})");

        bool Kept(int row, int col) => kept is null || kept[(long)row * k + col];
        // The windows of one row: each group's columns cut from its first column on, never crossing into the next group.
        var windows = new List<(int Group, int Start, int End, bool First, bool Last)>();
        for (int gi = 0; gi < groups; gi++)
        {
            int groupStart = gi * g, groupEnd = Math.Min(groupStart + g, k);
            for (int s = groupStart; s < groupEnd; s += window)
                windows.Add((gi, s, Math.Min(s + window, groupEnd), s == groupStart, s + window >= groupEnd));
        }
        int most = 1;
        for (int row = 0; row < n; row++)
            foreach (var (_, start, end, _, _) in windows)
            {
                int count = 0;
                for (int c = start; c < end; c++) if (Kept(row, c)) count++;
                most = Math.Max(most, count);
            }
        int lanesPerRow = (int)BitOperations.RoundUpToPowerOf2((uint)most);
        if (lanesPerRow > chain.Lanes)
            throw new CodesignException($"mpe stream: a row keeps {most} weights in one {window}-column window; the chain has {chain.Lanes} lanes");
        int rowsPerBeat = chain.Lanes / lanesPerRow, segLog2 = BitOperations.Log2((uint)lanesPerRow);

        var beats = new List<MpeBeat>();
        var outputs = new List<MpeOutputSlot[]>();
        for (int t = 0; t < m; t++)
            for (int c0 = 0; c0 < n; c0 += rowsPerBeat)
                foreach (var (gi, start, end, first, last) in windows)
                {
                    var act = new int[window];
                    for (int i = 0; i < end - start; i++) act[i] = activationCodes[t * k + start + i];
                    var weights = new int[chain.Lanes];
                    var selects = new int[chain.Lanes];
                    for (int j = 0; j < rowsPerBeat && c0 + j < n; j++)
                    {
                        int lane = j * lanesPerRow;
                        for (int c = start; c < end; c++)
                            if (Kept(c0 + j, c))
                            {
                                weights[lane] = (int)centered[(long)(c0 + j) * k + c];
                                selects[lane++] = c - start;
                            }
                    }
                    beats.Add(new MpeBeat(first, last, segLog2, act, weights, selects));
                    if (last)
                        outputs.Add([.. Enumerable.Range(0, rowsPerBeat).Select(j => new MpeOutputSlot(t, c0 + j < n ? c0 + j : -1, gi))]);
                }
        return new MpeStream(beats, outputs, rowsPerBeat, lanesPerRow);
    }
}
