using System.Numerics;
using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// The matrix cores as rendered for a model (hdl-templates/accel_cores.sv.sbn, accel_core.sv.sbn): the shape, the
/// activation window's rotation (<see cref="Rotation"/> columns), the code banks (<see cref="CodeRows"/> rows of 2L
/// codes: the longest K), and each core's rings in beats: codes (a FIFO deep enough to keep a port's latency of
/// requests in flight), scales, zero points and N:M offsets (each holding two blocks of rows). A design that is not
/// <see cref="Sparse"/> has no offset ring, offset reader or sparse MUX, and refuses N:M rows; a sparse one wires 2:4,
/// and 4:8 only where <see cref="FourOfEight"/> (its eight-way MUX is about 11 000 LUTs of a 64-byte core's 41 000).
/// </summary>
public sealed record MatrixCoreDesign(AcceleratorShape Shape, int Rotation, int CodeRows, int CodeBeats, int ScaleBeats, int ZeroBeats, int OffsetBeats, bool Sparse = true, bool FourOfEight = true)
{
    /// <summary>Whether the cores take N:M rows of this pattern: one the cores' MUX can wire, and 4:8 only where this design wires it.</summary>
    public bool TakesPattern(int n, int m) => Sparse && MatrixCoreRules.TakesPattern(n, m) && (m != 8 || FourOfEight);

    /// <summary>The N:M patterns a core's MUX wires, which its cost depends on.</summary>
    public SparseMux Mux => !Sparse ? SparseMux.None : FourOfEight ? SparseMux.TwoOfFourAndFourOfEight : SparseMux.TwoOfFour;

    /// <summary>Bursts a core keeps in flight.</summary>
    public const int Outstanding = 16;

    /// <summary>Rows a block should hold at least, so a ring's next block arrives while the last computes.</summary>
    public const int TargetBlockRows = 2;

    public int BeatBytes => Shape.BeatBytes;
    public int Lanes => Shape.Lanes;
    public int Cores => Shape.Cores;

    /// <summary>The longest burst: half the code FIFO, within AXI4's 256 beats and 4 KB.</summary>
    public int MaxBurst => Math.Min(Math.Min(CodeBeats / 2, 4096 / BeatBytes), 256);

    /// <summary>Cycles from a beat entering the chain to its group's sum leaving it: the multipliers, a register per adder-tree level, the accumulator.</summary>
    public int ChainLatency => System.Numerics.BitOperations.Log2((uint)Lanes) + 2;

    /// <summary>Cycles a core waits after its last beat before it may finish: the chain, the dequantizer, the line assembler, the FIFO's count.</summary>
    public int DrainCycles => ChainLatency + 4;

    /// <summary>Codes the banks hold: the longest row K the cores take.</summary>
    public int CodeBytes => CodeRows * 2 * Lanes;

    public MatrixCoreDesign Checked()
    {
        Shape.Checked();
        if (Rotation < 16 || Rotation > Lanes / 2 || !BitOperations.IsPow2(Rotation)) throw new CodesignException($"fpga: a core window rotation of {Rotation} columns (a power of two, 16 to {Lanes / 2})");
        if (CodeRows is < 1 or > 1 << 16) throw new CodesignException($"fpga: {CodeRows} rows of code banks");
        foreach (var (name, beats) in new[] { ("code", CodeBeats), ("scale", ScaleBeats), ("zero-point", ZeroBeats), ("offset", OffsetBeats) })
            if (beats is < 8 or > 1 << 12 || !BitOperations.IsPow2(beats)) throw new CodesignException($"fpga: a core {name} ring of {beats} beats (a power of two, 8 to 4096)");
        return this;
    }

    /// <summary>
    /// The design for matrices whose rows hold at most <paramref name="maxK"/> codes, <paramref name="maxScaleRowBytes"/>
    /// bytes of scales, <paramref name="maxGroups"/> zero points and <paramref name="maxOffsetRowBytes"/> bytes of N:M
    /// offsets, their group lengths below K <paramref name="groups"/>.
    /// </summary>
    public static MatrixCoreDesign For(AcceleratorShape shape, int maxK, int maxScaleRowBytes, int maxGroups, int maxOffsetRowBytes, IEnumerable<int> groups, bool sparse = true, bool fourOfEight = true)
    {
        shape.Checked();
        int w = shape.BeatBytes;
        // two blocks of TargetBlockRows rows, each maybe straddling one more beat
        int Ring(int rowBytes) => (int)Math.Max(8, BitOperations.RoundUpToPowerOf2((uint)(2 * ((TargetBlockRows * (long)rowBytes + w - 1) / w + 2))));
        return new MatrixCoreDesign(shape, MatrixCoreRules.Rotation(shape, groups), Math.Max(1, (maxK + 2 * shape.Lanes - 1) / (2 * shape.Lanes)),
            128, Ring(maxScaleRowBytes), Ring(maxGroups), Ring(maxOffsetRowBytes), sparse, fourOfEight).Checked();
    }

    /// <summary>Bytes of one row's N:M offsets (M = 2N: K/2 of log2 M bits).</summary>
    public static int OffsetRowBytes(int k, int m) => k / 2 * BitOperations.Log2((uint)m) / 8;

    /// <summary>
    /// log2 of the rows per block the cores take for a matrix (the RTL's rule): the most, a power of two up to 2^15,
    /// whose scales, zero points and offsets each fill at most half their ring less a beat; null when one row's do not.
    /// </summary>
    public int? BlockRowsLog2(int groups, int scaleBytes, bool asymmetric, int offsetRowBytes)
    {
        int? best = null;
        for (int r = 0; r < 16; r++)
            if (((long)groups * scaleBytes << r) <= (long)(ScaleBeats / 2 - 1) * BeatBytes
                && (!asymmetric || ((long)groups << r) <= (long)(ZeroBeats / 2 - 1) * BeatBytes)
                && ((long)offsetRowBytes << r) <= (long)(OffsetBeats / 2 - 1) * BeatBytes)
                best = r;
        return best;
    }

    /// <summary>Why the cores refuse <paramref name="o"/> (fault 1, 2, 5 or 7 in the RTL), or null; the buffer ranges are checked by the caller.</summary>
    public (int Fault, string Reason)? Refusal(CoreMatrixOperands o)
    {
        var (keep, of) = o.Sparse ? MatrixCoreRules.Pattern(o) : (1, 1);
        bool ternary = (o.Layout & MatrixLayout.Ternary) != 0, asymmetric = (o.Layout & MatrixLayout.Asymmetric) != 0;
        if (o.Reuse && o.M != 1) return (1, $"an activation row reused over m = {o.M} rows (the cores hold one)");
        if (o.Bits is not (2 or 3 or 4 or 8) || (o.Format & 0xc0) != 0 || (o.Sparse ? !TakesPattern(keep, of) : (o.Layout & MatrixLayout.PatternBits) != 0)
            || (ternary && (o.Bits != 2 || asymmetric)) || o.K % 16 != 0 || o.Group == 0 || (o.GroupLength < o.K && o.GroupLength % Rotation != 0))
            return (1, $"{o.Bits}-bit {(o.Sparse ? $"{keep}:{of} " : "")}weights over K = {o.K} in groups of {o.Group}: not a format the matrix cores execute");
        if (o.K > CodeBytes) return (7, $"a row of {o.K} codes; the cores' code banks hold {CodeBytes}");
        if (o.M == 0 || o.N == 0) return null;
        int groups = (o.K + o.GroupLength - 1) / o.GroupLength, scaleBytes = (o.Layout & (MatrixLayout.ScalesF16 | MatrixLayout.ScalesBF16)) != 0 ? 2 : 4;
        if (BlockRowsLog2(groups, scaleBytes, asymmetric, o.Sparse ? OffsetRowBytes(o.K, of) : 0) is null)
            return (7, $"a row's {groups} scales, zero points or offsets exceed half of the cores' rings");
        return null;
    }
}

/// <summary>The N:M patterns a core's sparse MUX wires: none (a dense core), 2:4, or 2:4 and 4:8.</summary>
public enum SparseMux { None, TwoOfFour, TwoOfFourAndFourOfEight }
