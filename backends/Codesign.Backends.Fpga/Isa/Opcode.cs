using System.Numerics;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>The accelerator's instruction classes (docs/fpga-isa.md), as in FlightLLM: LD, ST, MM/MV, MISC, SYS.</summary>
public enum Opcode : byte
{
    /// <summary>DMA external memory → an on-chip buffer.</summary>
    Load = 0x01,
    /// <summary>DMA an on-chip buffer → external memory.</summary>
    Store = 0x02,
    /// <summary>Matrix × vector(s) on the matrix engine: decode (one token) and attention over a KV tile.</summary>
    MatVec = 0x03,
    /// <summary>Matrix × matrix on the matrix engine: prefill (many tokens).</summary>
    MatMat = 0x04,
    /// <summary>A special-function-unit operation (<see cref="SfuFunction"/>).</summary>
    Sfu = 0x05,
    /// <summary>Waits on and releases unit semaphores only.</summary>
    Sync = 0x06,
    /// <summary>End of the program.</summary>
    End = 0x07,
    /// <summary>The load unit gathers one table row per token id (embedding lookup) from external memory into the activations.</summary>
    Gather = 0x08,
    /// <summary>
    /// Matrix × vector on the matrix cores: group-wise weights striped by rows across the cores' memory channels, the
    /// address an offset within every core's channel (<see cref="CoreMatrixOperands"/>).
    /// </summary>
    CoreMatVec = 0x09,
    /// <summary>Matrix × matrix (a prefill chunk's rows) on the matrix cores.</summary>
    CoreMatMat = 0x0A,
    /// <summary>The shape of attention on the matrix cores, kept by the cores for the instructions after it (<see cref="CoreAttentionShape"/>).</summary>
    CoreAttentionShape = 0x0B,
    /// <summary>Quantizes the step's key (function 0) or value (1) rows and appends them to the cores' int8 cache (<see cref="CoreAttentionOperands"/>).</summary>
    CoreAppend = 0x0C,
    /// <summary>Attention scores over the cores' int8 keys, a kv head a core (<see cref="CoreAttentionOperands"/>).</summary>
    CoreScores = 0x0D,
    /// <summary>Attention outputs over the cores' int8 values, a kv head a core (<see cref="CoreAttentionOperands"/>).</summary>
    CoreValues = 0x0E,
}

/// <summary>The decoupled units; an instruction waits for the units in its wait mask and releases those in its release mask.</summary>
[Flags]
public enum Units : byte
{
    None = 0,
    Load = 1,
    Store = 2,
    Matrix = 4,
    Sfu = 8,
    All = Load | Store | Matrix | Sfu,
}

/// <summary>The function field of <see cref="Opcode.Sfu"/>.</summary>
public enum SfuFunction : byte
{
    /// <summary>y = (x · 1/√(Σx²/d + eps)) · γ; the parameter block holds γ (f32) and, at the next 16-byte unit, eps (f64).</summary>
    RmsNorm = 1,
    /// <summary>
    /// Online softmax over one KV tile of scores: scales them by the attention scale (the parameter block's first
    /// word), updates each row's running max and sum (the state rows) and rescales the output accumulated so far.
    /// </summary>
    SoftmaxTile = 2,
    /// <summary>Rotate-half rope; the parameter block holds one row of cos then sin per token of the step.</summary>
    Rope = 3,
    Silu = 4,
    Multiply = 5,
    Add = 6,
    /// <summary>Divides each attention output row by its softmax sum, after the last tile.</summary>
    SoftmaxFinish = 8,
    /// <summary>
    /// Whole score rows to the probabilities the matrix cores quantize: softmax over the keys a row sees, each times
    /// its value row's scale (<see cref="AttentionProbabilityOperands"/>).
    /// </summary>
    AttentionProbabilities = 9,
}

/// <summary>The on-chip buffers a load or store addresses (the function field of <see cref="Opcode.Load"/>/<see cref="Opcode.Store"/>).</summary>
public enum OnChipBuffer : byte
{
    Activations = 0,
    Weights = 1,
    Keys = 2,
    Values = 3,
    Parameters = 4,
}

/// <summary>
/// The function field of <see cref="Opcode.MatVec"/>/<see cref="Opcode.MatMat"/>: weight bits (0: dense f16/f32;
/// 2, 3, 4, 8: group-wise codes) in bits 0..3, and these flags. Bits 5 and 6 mean attention on f32 weights (bits 0..3
/// zero); on group-wise codes bit 5 with <see cref="Sparse"/> means block sparsity and bit 6 carries its block width
/// (<see cref="MatrixLayout.BlockShapeOf"/>).
/// </summary>
public static class MatrixFormat
{
    /// <summary>Sparse weights: N:M, or block-sparse with <see cref="Block"/>.</summary>
    public const byte Sparse = 0x10;
    /// <summary>With <see cref="Sparse"/> on group-wise codes: block-sparse weights (the IR's block R×C layout).</summary>
    public const byte Block = 0x20;
    /// <summary>With <see cref="Block"/>: the high bit of log2(C) − 4.</summary>
    public const byte BlockWide = 0x40;
    /// <summary>Attention scores: keys from the key buffer (n = the tile's keys, k = head dim).</summary>
    public const byte AttentionScores = 0x20;
    /// <summary>Attention output: values from the value buffer (n = head dim, k = the tile's values).</summary>
    public const byte AttentionOutput = 0x40;
    /// <summary>LUT-mpGEMM (<c>lut.mpgemm</c>): f32 activations as int8 tables, 2- to 4-bit dense codes looked up plane by plane.</summary>
    public const byte Lut = 0x80;

    public static int WeightBits(byte format) => format & 0xf;

    /// <summary>Whether the instruction is attention over a KV tile (scores or Σ p·v): f32 operands with bit 5 or 6.</summary>
    public static bool IsAttention(byte format) => WeightBits(format) == 0 && (format & (AttentionScores | AttentionOutput)) != 0;

    /// <summary>Whether group-wise codes are block-sparse.</summary>
    public static bool IsBlockSparse(byte format) => WeightBits(format) != 0 && (format & (Sparse | Block)) == (Sparse | Block);

    /// <summary>Whether group-wise codes are N:M-sparse.</summary>
    public static bool IsNOfM(byte format) => (format & Sparse) != 0 && !IsBlockSparse(format);

    /// <summary>Whether the LUT-mpGEMM engine reads codes of <paramref name="bits"/> (its bit reader and two or four planes).</summary>
    public static bool LutReads(int bits) => bits is 2 or 3 or 4;

    /// <summary>Whether the binary32 engine executes <paramref name="i"/> (the RTL's rule: a MATVEC/MATMAT whose format's low five bits are 0).</summary>
    public static bool OnBinary32Engine(Instruction i) => i.Op is Opcode.MatVec or Opcode.MatMat && (i.Function & 0x1f) == 0;
}

/// <summary>The layout byte of a matrix instruction (header bits 24..31): how its group-wise weights are packed (QuantizedLayout).</summary>
public static class MatrixLayout
{
    /// <summary>Zero points are stored after the scales (an asymmetric scheme); otherwise the code 2^(bits−1) means zero.</summary>
    public const byte Asymmetric = 0x01;
    /// <summary>Scales are f16 (else f32).</summary>
    public const byte ScalesF16 = 0x02;
    /// <summary>Scales are bf16.</summary>
    public const byte ScalesBF16 = 0x04;
    /// <summary>Ternary 2-bit codes (0, 1, 2 for −1, 0, +1).</summary>
    public const byte Ternary = 0x08;
    public const byte All = Asymmetric | ScalesF16 | ScalesBF16 | Ternary;
    /// <summary>
    /// N:M-sparse weights (with <see cref="MatrixFormat.Sparse"/>): bits 4..5 hold log2(M) − 1 and bits 6..7 log2(N), so
    /// the engine executes N in {1, 2, 4, 8} of M in {2, 4, 8, 16}; 0 for dense weights.
    /// </summary>
    public const byte PatternBits = 0xf0;

    /// <summary>The pattern bits of N:M, or null when the engine has no encoding for it.</summary>
    public static byte? Pattern(int n, int m) =>
        BitOperations.IsPow2(n) && BitOperations.IsPow2(m) && n < m && m is >= 2 and <= 16
            ? (byte)(BitOperations.Log2((uint)m) - 1 << 4 | BitOperations.Log2((uint)n) << 6) : null;

    /// <summary>
    /// The format and layout bits of block-sparse weights of R×C blocks, or null when the engine has no encoding for
    /// the shape: R a power of two up to 128 (layout bits 4..6 hold log2 R), C one of 16, 32, 64, 128 (log2(C) − 4:
    /// its low bit in layout bit 7, its high bit in <see cref="MatrixFormat.BlockWide"/>).
    /// </summary>
    public static (byte Format, byte Layout)? BlockShape(int rows, int cols) =>
        BitOperations.IsPow2(rows) && rows <= 128 && BitOperations.IsPow2(cols) && cols is >= 16 and <= 128
            ? ((byte)(MatrixFormat.Sparse | MatrixFormat.Block | ((BitOperations.Log2((uint)cols) - 4) >> 1 != 0 ? MatrixFormat.BlockWide : 0)),
               (byte)(BitOperations.Log2((uint)rows) << 4 | ((BitOperations.Log2((uint)cols) - 4) & 1) << 7))
            : null;

    /// <summary>R and C of a block-sparse instruction's format and layout bytes.</summary>
    public static (int Rows, int Cols) BlockShapeOf(byte format, byte layout) =>
        (1 << (layout >> 4 & 7), 16 << ((layout >> 7) | ((format & MatrixFormat.BlockWide) != 0 ? 2 : 0)));

    /// <summary>
    /// Why the matrix engine cannot execute block-sparse [n, k] weights of <paramref name="blockRows"/>×<paramref name="blockCols"/>
    /// blocks in groups of <paramref name="group"/> at <paramref name="bits"/> bits with a scale buffer of
    /// <paramref name="scaleEntries"/> and an index buffer of <paramref name="indexLines"/> lines, or null: a row's part of
    /// a block is whole 16-byte lines (so every block starts on a line), K is whole blocks, the group length is a
    /// power of two or the whole row (a beat never crosses a block or a group), the mask fits the index buffer and a
    /// block row's scales the scale buffer.
    /// </summary>
    public static string? BlockRowsProblem(int blockRows, int blockCols, int n, int k, int group, int bits, int scaleEntries, int indexLines)
    {
        if (blockCols * bits % 128 != 0) return $"a row's {blockCols} {bits}-bit codes of a block are not whole 16-byte lines";
        if (k == 0 || k % blockCols != 0) return $"K = {k} is not whole {blockCols}-column blocks";
        if (group < k && !BitOperations.IsPow2(group)) return $"quantization groups of {group} columns are not a power of two";
        long rows = Math.Min(blockRows, n), groups = (k + group - 1) / group;
        if (rows * groups > scaleEntries) return $"a block row's {rows * groups} scales exceed the scale buffer's {scaleEntries} entries";
        long maskLines = ((long)(n + blockRows - 1) / blockRows * (k / blockCols) + 127) / 128;
        if (maskLines > indexLines) return $"the block mask's {maskLines} lines exceed the index buffer's {indexLines} lines";
        return null;
    }

    /// <summary>N and M of a sparse instruction's layout byte.</summary>
    public static (int N, int M) PatternOf(byte layout) => (1 << (layout >> 6), 2 << (layout >> 4 & 3));

    /// <summary>
    /// Why the matrix engine cannot stream N:M-sparse rows of <paramref name="k"/> columns in groups of
    /// <paramref name="group"/> at <paramref name="bits"/> bits, or null: each group is whole M-windows, and each row's
    /// kept codes are whole bytes (a block of rows starts on a byte of the stored codes).
    /// </summary>
    public static string? SparseRowsProblem(int n, int m, int k, int group, int bits) =>
        k % m != 0 ? $"K = {k} is not whole {m}-column windows"
        : group % m != 0 ? $"quantization groups of {group} columns split the {m}-column windows"
        : (long)k / m * n * bits % 8 != 0 ? $"a row's {k / m * n} kept {bits}-bit codes are not whole bytes"
        : null;

    /// <summary>The layout byte of a scheme (0 for f32 weights).</summary>
    public static byte Of(QuantScheme? scheme) => scheme is null ? (byte)0
        : (byte)((scheme.Symmetric ? 0 : Asymmetric) | (scheme.Ternary ? Ternary : 0)
            | (scheme.ScaleType == DType.F16 ? ScalesF16 : scheme.ScaleType == DType.BF16 ? ScalesBF16 : 0));

    /// <summary>The scheme a matrix instruction's weights are packed in: its bits, group length (a whole row: per channel) and layout byte.</summary>
    public static QuantScheme Scheme(int bits, int group, int k, byte layout) =>
        QuantScheme.Create(bits, group >= k ? 0 : group, (layout & Asymmetric) == 0,
            (layout & ScalesF16) != 0 ? DType.F16 : (layout & ScalesBF16) != 0 ? DType.BF16 : DType.F32,
            ternary: (layout & Ternary) != 0);
}
