using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// The cycles of a core instruction (hdl-templates/accel_cores.sv.sbn, accel_core.sv.sbn) behind a
/// <see cref="CorePort"/>: a cycle-level model of what the RTL's timing depends on — the set-up, the quantizer's
/// passes over each activation row (every core's at once for a matrix, each core's own in turn for attention), each
/// core's fetcher (its walk over blocks and sections, the rings' credits, the outstanding bursts, a row a block for
/// strided value codes), its channel (latency and token bucket, as testbenches/axi_memory_model.h's AxiChannelPort),
/// its consumer (bit readers of two slots, a beat a cycle, the output FIFO's guard) or, appending, its writes (one a
/// cycle, each answered the port's latency later), the chain and dequantizer's latency, and the writeback of every
/// core's lines a line a cycle. Data do not matter, only counts, so one instruction takes about a microsecond a
/// thousand cycles; results are memoised on what the timing depends on.
/// </summary>
public static partial class CoreTiming
{
    /// <summary>Cycles from the cluster's start to the controller's next fetch, less the fetch and issue (the performance model adds those).</summary>
    public static long? Cycles(CoreMatrixOperands o, MatrixCoreDesign design, CorePort port)
    {
        if (design.Refusal(o) is not null) return null;
        // the timing depends on where the slices are within a 4 KiB page (bursts never cross one), not on which page
        var key = (o with { Offset = o.Offset % PageLines }, design, port);
        lock (Memo)
            if (Memo.TryGetValue(key, out long known)) return known;
        long cycles = Matrix(key.Item1, design, port);
        lock (Memo) Memo[key] = cycles;
        return cycles;
    }

    /// <summary>CORE ATTENTION SHAPE: the sixteen steps of its multiplications and the check.</summary>
    public const long ShapeCycles = 17;

    /// <summary>
    /// The cycles of an attention instruction in <paramref name="shape"/> (its fields as the cores check them), or null
    /// for one they refuse.
    /// </summary>
    public static long? Cycles(CoreAttentionOperands o, CoreAttentionShape shape, MatrixCoreDesign design, CorePort port)
    {
        if (shape.Problem() is not null || shape.Capacity > design.CodeBytes || shape.HeadDim > design.CodeBytes
            || o.KvHeads > design.Cores || o.FirstKvHead + o.KvHeads > shape.KvHeads || (o.Op == Opcode.CoreScores && o.Keys > shape.Stride)
            || (o.Op == Opcode.CoreAppend && o.Position + o.Tokens > shape.Capacity))
            return null;
        if (o.Op == Opcode.CoreScores && design.BlockRowsLog2(1, 4, false, 0) is null) return null;
        // the timing depends on where the regions are within a 4 KiB page, not on which page or where the rows are
        var key = (o with { Offset = o.Offset % PageLines, Position = 0, FirstKvHead = 0, Input = 0, Output = 0 }, shape, design, port);
        lock (AttentionMemo)
            if (AttentionMemo.TryGetValue(key, out long known)) return known;
        long cycles = Attention(key.Item1, shape, design, port);
        lock (AttentionMemo) AttentionMemo[key] = cycles;
        return cycles;
    }

    /// <summary>16-byte lines of the 4 KiB page an AXI4 burst may not cross.</summary>
    private const long PageLines = 4096 / 16;

    private static readonly Dictionary<(CoreMatrixOperands, MatrixCoreDesign, CorePort), long> Memo = [];
    private static readonly Dictionary<(CoreAttentionOperands, CoreAttentionShape, MatrixCoreDesign, CorePort), long> AttentionMemo = [];

    /// <summary>Set-up cycles before the cores start: the division for the groups (17) and the block rows (1), then the start pulse (1).</summary>
    private const int SetupToCoresStart = 19;

    /// <summary>An attention instruction's set-up: the multiplications (17), the checks (1), the block rows (1), the start pulse (1).</summary>
    private const int AttentionSetupToCoresStart = 20;

    private const int ModeMatrix = 0, ModeAppend = 1, ModeScores = 2, ModeValues = 3;

    /// <summary>What the cluster hands one core for an instruction (accel_core's inputs).</summary>
    private sealed record CoreJob(int Mode, int Bits, bool Sparse, int Mlog, bool Asym, int ScaleBytes, int K, int Glen, int Groups, int Rlog,
        int Rows, int Row0, long Base, long PlaceRows, long PlaceBytes, int M, long RowWord0, long OutStep, long OutTok, int Rgrp, int AppendWrites);

    private static long Matrix(CoreMatrixOperands o, MatrixCoreDesign d, CorePort port)
    {
        if (o.M == 0 || o.N == 0) return 0;  // done the cycle after the start
        int glen = o.GroupLength, groups = (o.K + glen - 1) / glen;
        bool sparse = o.Sparse, asym = (o.Layout & MatrixLayout.Asymmetric) != 0;
        int mlog = sparse ? System.Numerics.BitOperations.Log2((uint)MatrixCoreRules.Pattern(o).M) : 0;
        int scaleBytes = (o.Layout & (MatrixLayout.ScalesF16 | MatrixLayout.ScalesBF16)) != 0 ? 2 : 4;
        int rlog = d.BlockRowsLog2(groups, scaleBytes, asym, sparse ? MatrixCoreDesign.OffsetRowBytes(o.K, 1 << mlog) : 0)!.Value;
        var cores = Enumerable.Range(0, d.Cores).Select(c =>
        {
            var (row0, rows) = MatrixCoreRules.Rows(o.N, d.Cores, c);
            return new Core(new CoreJob(ModeMatrix, o.Bits, sparse, mlog, asym, scaleBytes, o.K, glen, groups, rlog, rows, row0, o.Offset * 16,
                rows, 0, o.M, o.Output * 4L, 0, o.N, 1, 0), d, port);
        }).ToArray();
        // lines of an activation row: its words from in + r·k, a 16-byte line of four a cycle (their span does not depend on r when k is a multiple of 4)
        long first = o.Input * 4L;
        int lines = (int)(((first + o.K - 1) >> 2) - (first >> 2) + 1);
        return new Cluster(cores, SetupToCoresStart, o.M, lines, perCore: false) { Reused = o.Reuse }.Run();
    }

    private static long Attention(CoreAttentionOperands o, CoreAttentionShape s, MatrixCoreDesign d, CorePort port)
    {
        int mode = o.Op switch { Opcode.CoreAppend => ModeAppend, Opcode.CoreScores => ModeScores, _ => ModeValues };
        int m = mode == ModeAppend ? o.Tokens : o.Tokens * s.QueryGroup;
        if (m == 0 || o.KvHeads == 0) return AttentionSetupToCoresStart - 2;  // done from the checks
        int q = s.QueryGroup, hd = s.HeadDim, k = mode == ModeValues ? s.Stride : hd;
        // the outputs' rows: a score row (stride) or an output row (head dim) per (token, head)
        long outRow = mode == ModeScores ? s.Stride : hd;
        int rlog = mode == ModeScores ? d.BlockRowsLog2(1, 4, false, 0)!.Value : 0;
        var cores = Enumerable.Range(0, d.Cores).Select(c =>
        {
            bool working = c < o.KvHeads;
            int rows = !working ? 0 : mode switch { ModeAppend => 1, ModeScores => o.Keys, _ => hd };
            return new Core(new CoreJob(mode, 8, false, 0, false, 4, k, k, 1, rlog, rows, 0, o.Offset * 16,
                mode == ModeScores ? s.Capacity : hd, mode == ModeScores ? hd : s.Capacity, m,
                o.Output * 4L + (long)(o.FirstKvHead + c) * q * outRow, outRow, (long)(s.Heads - q + 1) * outRow, mode == ModeAppend ? 1 : q,
                o.Values ? hd : hd + 1), d, port);
        }).ToArray();
        return new Cluster(cores, AttentionSetupToCoresStart, m, k / 4, perCore: true, o.KvHeads).Run();
    }
}
