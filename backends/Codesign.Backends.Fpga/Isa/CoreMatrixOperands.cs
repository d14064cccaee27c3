using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// The operands of <see cref="Opcode.CoreMatVec"/>/<see cref="Opcode.CoreMatMat"/>: y[m, n] = x[m, k] · W[n, k]ᵀ with
/// group-wise weights, rows striped across the matrix cores (core c holds rows c·⌈n/C⌉ onwards as a matrix of its own,
/// at <see cref="Offset"/> in its channel). Function = the weights' bits (2, 3, 4, 8) and <see cref="MatrixFormat.Sparse"/>
/// for N:M, and <see cref="ReuseCodes"/>; the header's byte 24..31 = <see cref="MatrixLayout"/>; A = the offset in 16-byte units; B = n « 16 | k;
/// C = m « 16 | group length (≥ k: one group a row); D = input « 16 | output, activation-buffer units.
/// </summary>
public readonly record struct CoreMatrixOperands(byte Format, byte Layout, long Offset, int N, int K, int M, int Group, int Input, int Output)
{
    /// <summary>
    /// Function bit 5: the one activation row (m = 1) is the previous core matrix instruction's, with no core instruction
    /// between, so the cores' banks still hold its codes and the cluster its scale and the quantizer does not run (q_proj,
    /// k_proj and v_proj read one row, as do gate_proj and up_proj). The functional model holds that row too.
    /// </summary>
    public const byte ReuseCodes = 0x20;

    public int Bits => MatrixFormat.WeightBits(Format);
    public bool Sparse => (Format & MatrixFormat.Sparse) != 0;
    public bool Reuse => (Format & ReuseCodes) != 0;
    /// <summary>The group length the weights use: the field, or the whole row.</summary>
    public int GroupLength => Group >= K ? K : Group;
    public QuantScheme Scheme => MatrixLayout.Scheme(Bits, Group, K, Layout);

    public static bool Is(Instruction i) => i.Op is Opcode.CoreMatVec or Opcode.CoreMatMat;

    public static CoreMatrixOperands Of(Instruction i) => new(i.Function, i.Layout, i.A, (int)(i.B >> 16), (int)(i.B & 0xffff),
        (int)(i.C >> 16), (int)(i.C & 0xffff), (int)(i.D >> 16), (int)(i.D & 0xffff));

    public Instruction Encode(bool decode, Units wait, Units release) =>
        new(decode ? Opcode.CoreMatVec : Opcode.CoreMatMat, Format, wait, release, checked((uint)Offset), Instruction.Pack16(N, K),
            Instruction.Pack16(M, Group), Instruction.Pack16(Input, Output), Layout);
}
