using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Performance;

/// <summary>
/// Predicts the cycles each instruction takes on the accelerator RTL (hdl-templates/accelerator.sv.sbn) behind a
/// <see cref="MemoryPort"/>, from the instruction alone: the controller's fetch and issue, then the unit's work —
/// a transfer is the port's latency plus its beats at the port's rate, an element-wise SFU operation one element
/// per cycle, a group-wise matrix product two passes over each activation row (absmax, quantize) and then, per
/// block of weight rows that fits the <paramref name="ScaleEntries"/>-entry scale buffer (and, N:M-sparse, the
/// <paramref name="IndexLines"/>-line index buffer), its scales (and zero points) a beat at a time, its offsets
/// (sparse) at the port's rate, and its codes at the slower of the DSP chain (a beat of one group's weights a cycle:
/// 32 columns of dense 2- to 4-bit codes, 16 of 8-bit ones, up to 64 sparse) and the port; the binary32 engine (attention, f32 weights) a product a cycle, or four — a line of each operand (scores and f32 weights in rows of whole lines), or four Σ p·v dots side by side (head dims a multiple of 4) — and four more cycles per dot;
/// the special-function unit's passes over a row an element a cycle (element-wise operations a line of four). The formulas follow the RTL's state machines; the Verilated accelerator's measured cycles
/// check them (PerformanceModelTests, MatrixEngineTests). Instructions the RTL does not execute yet have no prediction.
/// </summary>
public sealed record PerformanceModel(MemoryPort Port, int ScaleEntries = AcceleratorRtl.DefaultScaleEntries, int IndexLines = AcceleratorRtl.DefaultIndexLines)
{
    /// <summary>Reads external memory: a block-sparse product's cycles depend on its mask, which only the weights hold.</summary>
    public delegate void ExternalRead(long address, Span<byte> data);

    /// <summary>The external memory the program runs on, for block-sparse products; without it they have no prediction.</summary>
    public ExternalRead? Memory { get; init; }

    /// <summary>The matrix cores' design; without it core instructions have no prediction.</summary>
    public MatrixCoreDesign? Cores { get; init; }

    /// <summary>Each core's memory port; by default 32 cycles' latency and a beat a cycle.</summary>
    public CorePort? CorePort { get; init; }

    /// <summary>Cycles the matrix engine waits after a row's last beat for the chain and the dequantizer to empty.</summary>
    public const int MatrixFlushCycles = 9;

    /// <summary>
    /// rms_norm's cycles per row between its two passes: the mean and the inverse are binary64 divisions of a
    /// quotient bit a cycle (set-up, 56 bits, rounding), the square root a bit a cycle (set-up, 55 bits, rounding),
    /// + eps and the narrowing to binary32 a cycle each.
    /// </summary>
    public const int RmsNormInverseCycles = 2 * (1 + 56 + 1) + (1 + 55 + 1) + 2;

    /// <summary>The controller's fetch and issue cycles, spent by every instruction.</summary>
    public const int IssueCycles = 2;

    /// <summary>The cycle the accelerator takes to leave idle when started.</summary>
    public const int StartCycles = 1;

    /// <summary>Cycles from the first beat of a burst to its last (the port moves at most one beat per cycle).</summary>
    public long BurstSpan(long beats, int minimumInterval = 1) =>
        beats <= 1 ? 0 : Math.Max((beats - 1) * minimumInterval, (long)Math.Ceiling((beats - 1) * MemoryPort.BeatBytes / Port.BytesPerCycle - 1e-9));

    private static long Beats(long bytes) => (bytes + MemoryPort.BeatBytes - 1) / MemoryPort.BeatBytes;

    /// <summary>
    /// The cycles <paramref name="i"/> takes from its fetch to the next instruction's, or null where the RTL does not
    /// execute it; attention on the cores in <paramref name="attention"/>, the shape the program set last.
    /// </summary>
    public long? Cycles(Instruction i, CoreAttentionShape? attention = null)
    {
        int latency = Port.LatencyCycles;
        switch (i.Op)
        {
            case Opcode.Sync or Opcode.End:
                return IssueCycles;
            case Opcode.Load when i.C == 0:
            case Opcode.Store when i.C == 0:
                return IssueCycles + 1;
            case Opcode.Load:
                // request, the latency, the beats, then the done the controller waits on
                return IssueCycles + 1 + latency + BurstSpan(Beats(i.C)) + 2;
            case Opcode.Store:
                // request; each beat is read from the buffer (a cycle) then sent; the response comes the latency later
                return IssueCycles + 2 + BurstSpan(Beats(i.C), minimumInterval: 2) + 1 + Math.Max(0, latency - 1) + 2;
            case Opcode.Gather:
                // per row: read its id (two cycles), request, the latency, the row's beats
                return i.C == 0 ? IssueCycles + 1 : IssueCycles + 1 + i.C * (4L + latency + BurstSpan(i.B / MemoryPort.BeatBytes));
            case Opcode.MatVec or Opcode.MatMat when MatrixFormat.IsAttention(i.Function):
                return IssueCycles + Attention(i) + 1;
            case Opcode.MatVec or Opcode.MatMat when i.Function == 0:
                return IssueCycles + Fp32Matrix(i) + 1;
            case Opcode.MatVec or Opcode.MatMat when MatrixFormat.WeightBits(i.Function) is 2 or 3 or 4 or 8 && ((i.Function & 0x60) == 0 || MatrixFormat.IsBlockSparse(i.Function)):
                return GroupwiseMatrix(i) is { } matrix ? IssueCycles + matrix + 1 : null;
            case Opcode.Sfu:
                return Sfu(i) is { } sfu ? IssueCycles + sfu + 1 : null;
            case Opcode.CoreMatVec or Opcode.CoreMatMat:
                return Cores is { } cores && CoreTiming.Cycles(CoreMatrixOperands.Of(i), cores, CorePort ?? Simulation.VerilatedAccelerator.DefaultCorePort(cores)) is { } core
                    ? IssueCycles + core + 1 : null;
            case Opcode.CoreAttentionShape:
                return Cores is null ? null : IssueCycles + CoreTiming.ShapeCycles + 1;
            case Opcode.CoreAppend or Opcode.CoreScores or Opcode.CoreValues:
                return Cores is { } design && attention is { } shape
                    && CoreTiming.Cycles(CoreAttentionOperands.Of(i), shape, design, CorePort ?? Simulation.VerilatedAccelerator.DefaultCorePort(design)) is { } att
                    ? IssueCycles + att + 1 : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// The binary32 engine's cycles for one dot product of <paramref name="length"/> elements: a product a cycle (four,
    /// a line of each operand, when <paramref name="lines"/>), the tree and the write.
    /// </summary>
    public static long DotCycles(long length, bool lines = false) => length == 0 ? 2 : (lines ? length / 4 : length) + 4;

    /// <summary>Whether the binary32 engine takes a line of each operand a cycle: consecutive operands (scores, f32 weights) in rows of whole lines.</summary>
    private static bool Lines(long length) => length % 4 == 0;

    /// <summary>Scores or Σ p·v over a KV tile: a dot per (token, head) row and key or dimension; an empty tile is skipped.</summary>
    private static long Attention(Instruction i)
    {
        long n = i.B >> 16, k = i.B & 0xffff, rows = (i.C >> 16) * (i.C & 0xffff);
        bool scores = (i.Function & MatrixFormat.AttentionScores) != 0;
        if (scores ? n == 0 : k == 0) return 0;
        // scores: a dot per key, a line of each operand a cycle; Σ p·v: four head dimensions' dots side by side
        return scores ? rows * n * DotCycles(k, Lines(k)) : rows * (Lines(n) ? n / 4 : n) * DotCycles(k);
    }

    /// <summary>f32 weights: per activation row a burst of the whole matrix, consumed a word (or, rows of whole lines, a beat) a cycle by n dot products, or at the port's rate.</summary>
    private long Fp32Matrix(Instruction i)
    {
        long n = i.B >> 16, k = i.B & 0xffff, m = i.C >> 16;
        if (m == 0 || n == 0) return 0;
        if (k == 0) return m * n * DotCycles(0);
        if (Lines(k))
        {
            // A beat an issue: a dot takes its k/4 beats as the port brings them, and in the four cycles between dots
            // the port brings one beat into the engine's one-beat buffer and then waits.
            double beatCycles = MemoryPort.BeatBytes / Port.BytesPerCycle, beats = k / 4.0;
            double perDot = Math.Max(DotCycles(k, lines: true), beats * beatCycles + Math.Max(0, 4 - beatCycles));
            return m * (1 + Port.LatencyCycles + 1 + (long)Math.Ceiling(n * perDot - 1e-9));
        }
        long compute = n * DotCycles(k), streaming = BurstSpan(Beats(n * k * 4)) + 1;
        return m * (1 + Port.LatencyCycles + 1 + Math.Max(compute, streaming));
    }

    /// <summary>The special-function unit's cycles from its start to its done, or null for a function it does not execute.</summary>
    private static long? Sfu(Instruction i)
    {
        long rows = i.B;
        switch ((SfuFunction)i.Function)
        {
            case SfuFunction.Add or SfuFunction.Multiply or SfuFunction.Silu:
            {
                // a line of four elements a cycle, then a cycle to write the last
                long elements = i.A * rows;
                return elements == 0 ? 0 : (elements + 3) / 4 + 1;
            }
            case SfuFunction.RmsNorm:
                // eps, then per row: the sum of squares (a pass an element a cycle), the inverse, the scaling (a pass, a
                // line of four a cycle when the row is a multiple of 4)
                return 1 + rows * (i.A + 2 + (i.A % 4 == 0 ? i.A / 4 : i.A) + 2 + RmsNormInverseCycles);
            case SfuFunction.Rope:
                // three cycles a step (read both halves, write the low, write the high); a step is four pairs when the
                // row is a multiple of 8 (its halves start on lines), else one
                return i.A < 2 ? 0 : rows * ((i.A / 2) / (i.A % 8 == 0 ? 4 : 1)) * 3;
            case SfuFunction.SoftmaxTile:
            {
                var t = SoftmaxTileOperands.Of(i);
                long keys = t.Keys, headDim = t.HeadDim;
                rows = t.Rows;
                // the scale, then per row: the state, scale and max (a pass), the new max, exponentials and sum
                // (a pass), the output's rescaling (a pass), the state's two words
                return keys == 0 || rows == 0 ? 0 : 1 + rows * (1 + (keys + 2) + 1 + (keys + 2) + (headDim + 2) + 2);
            }
            case SfuFunction.SoftmaxFinish:
                return rows * (1 + i.A + 2);
            case SfuFunction.AttentionProbabilities:
            {
                var a = AttentionProbabilityOperands.Of(i);
                if (a.Rows == 0) return 0;
                // a pass of n elements: n reads, the last write, the turn (a pass over none: the turn)
                static long Pass(long n) => n == 0 ? 1 : n + 2;
                // the scale, then per row: its start, scaling and max over the stride, the max, exponentials and sum, probabilities
                long cycles = 1;
                for (int r = 0; r < a.Rows; r++) cycles += 1 + Pass(a.Stride) + 1 + 2 * Pass(a.Visible(r));
                return cycles;
            }
            default:
                return null;
        }
    }

    /// <summary>
    /// The matrix engine's cycles for a group-wise integer MATVEC/MATMAT (DSP chain, dense or N:M, or LUT-mpGEMM), from
    /// its start to its done; null for operands it faults on.
    /// </summary>
    private long? GroupwiseMatrix(Instruction i)
    {
        int n = (int)(i.B >> 16), k = (int)(i.B & 0xffff), m = (int)(i.C >> 16), bits = MatrixFormat.WeightBits(i.Function);
        bool sparse = (i.Function & MatrixFormat.Sparse) != 0, lut = (i.Function & MatrixFormat.Lut) != 0;
        if (lut && (sparse || !MatrixFormat.LutReads(bits))) return null;
        if (m == 0 || n == 0) return 0;
        var scheme = MatrixLayout.Scheme(bits, (int)(i.C & 0xffff), k, i.Layout);
        if (MatrixFormat.IsBlockSparse(i.Function)) return BlockSparseMatrix(i, scheme, n, k, m);
        int glen = scheme.GroupLength(k), groups = scheme.GroupCount(k), scaleBytes = scheme.ScaleType.ByteSize;
        var (keep, of) = sparse ? MatrixLayout.PatternOf(i.Layout) : (1, 1);
        if (sparse && MatrixLayout.SparseRowsProblem(keep, of, k, glen, bits) is not null) return null;
        // A row's stored codes and (sparse) offsets, as the IR lays them out.
        var sparseRow = sparse ? SparseLayout.NOfM(SparseFormat.NOfM(keep, of), DType.Quantized(scheme), 1, k) : null;
        long rowBytes = sparseRow?.ValuesBytes ?? new QuantizedLayout(scheme, 1, k).RowCodeBytes;
        long indexRowBytes = sparseRow?.StructureBytes ?? 0;
        int beatColumns = sparse ? Math.Min(64 / of, (bits <= 4 ? 32 : 16) / keep) * of : DenseBeatColumns(bits, lut);
        long macBeatsPerRow = (groups - 1) * (long)((glen + beatColumns - 1) / beatColumns) + (k - (groups - 1) * (long)glen + beatColumns - 1) / beatColumns;
        int rowsPerBlock = Math.Max(1, ScaleEntries / groups);
        if (sparse) rowsPerBlock = (int)Math.Max(1, Math.Min(rowsPerBlock, IndexLines * 16L / indexRowBytes));
        int latency = Port.LatencyCycles;
        // scales and zero points: a beat's entries are written as it arrives
        long Entries(long entries, int bytesEach) => latency + BurstSpan(Beats(entries * bytesEach)) + 1;

        long weights = 0;
        for (int j = 0; j < n; j += rowsPerBlock)
        {
            int rows = Math.Min(rowsPerBlock, n - j);
            long entries = (long)rows * groups;
            weights += rows + 1;                                        // plan the block
            weights += 1 + Entries(entries, scaleBytes);                // its scales
            if (!scheme.Symmetric) weights += 1 + Entries(entries, 1);  // its zero points
            if (sparse) weights += 1 + latency + BurstSpan(Beats(rows * indexRowBytes)) + 1; // its offsets
            long streaming = BurstSpan(Beats(rows * rowBytes)) + 1;
            weights += 1 + latency + 1 + Math.Max(rows * macBeatsPerRow, streaming);
        }
        long activations = lut ? LutTableCycles(k, glen) : 2 * (k + 2L) + 1;
        return m * (activations + weights + MatrixFlushCycles);
    }

    /// <summary>
    /// A block-sparse product: the mask once (a burst; its kept blocks counted as it arrives), then per activation row
    /// its two passes and per block row a scan of its mask bits (a bit a cycle), its scales (and zero points), then its
    /// kept blocks' codes in one burst at the slower of the chain (a dense beat a cycle over each row's part of each
    /// kept block) and the port — or, for an empty block row, a zero beat a row — where scales, zero points and codes
    /// come for a plan of block rows at a time (<see cref="BlockRowsPerPlan"/>). Null without <see cref="Memory"/> or
    /// for operands the engine faults on.
    /// </summary>
    private long? BlockSparseMatrix(Instruction i, QuantScheme scheme, int n, int k, int m)
    {
        var (blockRows, blockCols) = MatrixLayout.BlockShapeOf(i.Function, i.Layout);
        int glen = scheme.GroupLength(k), groups = scheme.GroupCount(k), scaleBytes = scheme.ScaleType.ByteSize, bits = scheme.Bits;
        if (Memory is null || MatrixLayout.BlockRowsProblem(blockRows, blockCols, n, k, glen, bits, ScaleEntries, IndexLines) is not null) return null;
        int gridRows = (n + blockRows - 1) / blockRows, gridCols = k / blockCols;
        var mask = new byte[(gridRows * gridCols + 7) / 8];
        Memory((long)i.A * FpgaMemoryPlan.Unit, mask);
        long segmentBytes = blockCols * bits / 8;
        // a beat never crosses a group or a block: a block of C columns is its groups' (or its own) beats
        int span = Math.Min(blockCols, glen), beat = DenseBeatColumns(bits, lut: false);
        long beatsPerBlock = blockCols / span * (long)((span + beat - 1) / beat);
        int latency = Port.LatencyCycles;
        long Entries(long entries, int bytesEach) => latency + BurstSpan(Beats(entries * bytesEach)) + 1;

        long perRow = 2 * (k + 2L) + 1 + MatrixFlushCycles;
        int RowsOf(int blockRow) => Math.Min(blockRows, n - blockRow * blockRows);
        for (int br = 0; br < gridRows;)
        {
            // a plan: block rows while their scales fit the scale buffer and their kept lists ScaleEntries entries
            long entries = 0, codeBytes = 0, beats = 0, emptyRows = 0;
            int planned = 0, keptInPlan = 0;
            do
            {
                int rows = RowsOf(br), kept = 0;
                for (int bc = 0; bc < gridCols; bc++) kept += BitPacking.Read(mask, (long)br * gridCols + bc, 1);
                perRow += 1 + gridCols + 2;                              // plan, the mask scan
                entries += (long)rows * groups;
                keptInPlan += kept;
                codeBytes += kept * rows * segmentBytes;
                beats += rows * kept * beatsPerBlock;
                if (kept == 0) emptyRows += rows;                        // a zero beat a row
                planned++;
                br++;
            }
            while (br < gridRows && planned < BlockRowsPerPlan && entries + (long)RowsOf(br) * groups <= ScaleEntries && keptInPlan + gridCols <= ScaleEntries);
            perRow += 1;                                                 // plan: the request
            perRow += 1 + Entries(entries, scaleBytes);                  // the plan's scales
            if (!scheme.Symmetric) perRow += 1 + Entries(entries, 1);    // its zero points
            // its kept blocks' codes in one burst, consumed as they arrive
            perRow += emptyRows + (codeBytes == 0 ? 0 : 1 + latency + 1 + Math.Max(beats, BurstSpan(Beats(codeBytes)) + 1));
        }
        long maskLoad = 1 + latency + BurstSpan(Beats(mask.Length)) + 1 + 1;
        return maskLoad + m * perRow;
    }

    /// <summary>The most block rows a block-sparse plan takes (one scale load and one code burst for all of them).</summary>
    public const int BlockRowsPerPlan = 64;

    /// <summary>Columns of a dense beat: 32 codes of 2 to 4 bits on the chain's 32 lanes (at most a 16-byte line), 16 of 8 bits (a line) or on the LUT engine (four runs).</summary>
    public static int DenseBeatColumns(int bits, bool lut) => !lut && bits <= 4 ? 32 : 16;

    /// <summary>Cycles of an entry of the LUT engine's tables: the first activation, three additions (its quantization overlaps the next).</summary>
    public const int LutEntryCycles = 4;

    /// <summary>
    /// The LUT engine's tables for one activation row (lut_table_builder): per group a pass over its activations (a
    /// word a cycle) and ts, then per run its four activations and the eight entries, written as one line.
    /// </summary>
    public static long LutTableCycles(int k, int glen)
    {
        long cycles = 2;
        for (int start = 0; start < k; start += glen)
        {
            int length = Math.Min(glen, k - start), runs = (length + 3) / 4;
            cycles += length + 4 + runs * (6 + 8L * LutEntryCycles + 1);
        }
        return cycles;
    }

    /// <summary>The predicted cycles of a program up to its END: in total, per instruction, and per instruction class.</summary>
    public ProgramPrediction Predict(IReadOnlyList<Instruction> program)
    {
        var perInstruction = new long[program.Count];
        var byClass = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = StartCycles;
        var unpredicted = new List<int>();
        CoreAttentionShape? attention = null;
        for (int n = 0; n < program.Count; n++)
        {
            var i = program[n];
            if (i.Op == Opcode.CoreAttentionShape) attention = CoreAttentionShape.Of(i);
            var cycles = Cycles(i, attention);
            if (cycles is null) unpredicted.Add(n);
            perInstruction[n] = cycles ?? 0;
            total += perInstruction[n];
            string name = InstructionClass(i);
            byClass[name] = byClass.GetValueOrDefault(name) + perInstruction[n];
            if (i.Op == Opcode.End) break;
        }
        return new ProgramPrediction(total, perInstruction, byClass, unpredicted);
    }

    /// <summary>The class an instruction is reported under: its opcode, an SFU function, or attention for the KV-tile products.</summary>
    public static string InstructionClass(Instruction i) => i.Op switch
    {
        Opcode.Sfu => $"sfu.{((SfuFunction)i.Function).ToString().ToLowerInvariant()}",
        Opcode.MatVec or Opcode.MatMat when MatrixFormat.IsAttention(i.Function) => "attention",
        Opcode.CoreAttentionShape or Opcode.CoreAppend or Opcode.CoreScores or Opcode.CoreValues => "attention",
        Opcode.CoreMatVec or Opcode.CoreMatMat => "matvec",
        _ => i.Op.ToString().ToLowerInvariant(),
    };
}

/// <summary>A program's predicted cycles; <see cref="Unpredicted"/> lists the instructions the model has no formula for yet.</summary>
public sealed record ProgramPrediction(long Total, IReadOnlyList<long> PerInstruction, IReadOnlyDictionary<string, long> ByClass, IReadOnlyList<int> Unpredicted);
