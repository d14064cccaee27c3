using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// One 160-bit instruction: a header word (opcode, function, wait and release masks) and four operand words whose
/// meaning depends on the opcode (docs/fpga-isa.md). Encoded as five little-endian 32-bit words. <see cref="Layout"/>
/// (header bits 24..31) describes a matrix instruction's weights (<see cref="MatrixLayout"/>), holds a softmax tile's
/// and the attention probabilities' heads per token (<see cref="SoftmaxTileOperands"/>, <see cref="AttentionProbabilityOperands"/>)
/// and is 0 elsewhere.
/// </summary>
public readonly record struct Instruction(Opcode Op, byte Function, Units Wait, Units Release, uint A, uint B, uint C, uint D, byte Layout = 0)
{
    public const int Words = 5;
    public const int Bytes = Words * 4;

    public static uint Pack16(int high, int low)
    {
        if (high is < 0 or > ushort.MaxValue || low is < 0 or > ushort.MaxValue)
            throw new CodesignException($"fpga isa: {high} or {low} does not fit a 16-bit field");
        return (uint)high << 16 | (uint)low;
    }

    public void Encode(Span<uint> words)
    {
        words[0] = (uint)Op | (uint)Function << 8 | (uint)Wait << 16 | (uint)Release << 20 | (uint)Layout << 24;
        words[1] = A;
        words[2] = B;
        words[3] = C;
        words[4] = D;
    }

    /// <param name="index">Names the instruction in errors.</param>
    public static Instruction Decode(ReadOnlySpan<uint> words, int index)
    {
        uint header = words[0];
        var op = (Opcode)(header & 0xff);
        if (!Enum.IsDefined(op)) throw new CodesignException($"fpga isa: instruction {index}: unknown opcode 0x{header & 0xff:x2}");
        byte layout = (byte)(header >> 24);
        bool softmaxTile = op == Opcode.Sfu && (byte)(header >> 8) is (byte)SfuFunction.SoftmaxTile or (byte)SfuFunction.AttentionProbabilities;
        bool matrix = op is Opcode.MatVec or Opcode.MatMat or Opcode.CoreMatVec or Opcode.CoreMatMat;
        if (!matrix && !softmaxTile && layout != 0)
            throw new CodesignException($"fpga isa: instruction {index}: reserved header bits 24..31 are 0x{layout:x2}, not 0");
        var wait = (Units)((header >> 16) & 0xf);
        var release = (Units)((header >> 20) & 0xf);
        var instruction = new Instruction(op, (byte)(header >> 8), wait, release, words[1], words[2], words[3], words[4], layout);
        if (matrix && (instruction.Function & MatrixFormat.Sparse) == 0 && (layout & MatrixLayout.PatternBits) != 0)
            throw new CodesignException($"fpga isa: instruction {index}: N:M pattern bits 0x{layout & MatrixLayout.PatternBits:x2} on dense weights");
        if (op == Opcode.Sfu && !Enum.IsDefined((SfuFunction)instruction.Function))
            throw new CodesignException($"fpga isa: instruction {index}: unknown sfu function {instruction.Function}");
        if (op == Opcode.CoreAppend && instruction.Function > 1)
            throw new CodesignException($"fpga isa: instruction {index}: core append function {instruction.Function} (0 keys, 1 values)");
        if (op is Opcode.Load or Opcode.Store && !Enum.IsDefined((OnChipBuffer)instruction.Function))
            throw new CodesignException($"fpga isa: instruction {index}: unknown buffer {instruction.Function}");
        return instruction;
    }

    public override string ToString() => Op switch
    {
        Opcode.Load or Opcode.Store => $"{Op} {(OnChipBuffer)Function} ext=0x{A:x} chip=0x{B:x} bytes={C} ch={D}",
        Opcode.MatVec or Opcode.MatMat or Opcode.CoreMatVec or Opcode.CoreMatMat => $"{Op} fmt=0x{Function:x2} layout=0x{Layout:x2} w=0x{A:x} n={B >> 16} k={B & 0xffff} m={C >> 16} group={C & 0xffff} in=0x{D >> 16:x} out=0x{D & 0xffff:x}",
        Opcode.Gather => $"{Op} table=0x{A:x} row_bytes={B} rows={C} ids=0x{D >> 16:x} dst=0x{D & 0xffff:x}",
        Opcode.Sfu when Function == (byte)SfuFunction.SoftmaxTile => $"{Op} {SoftmaxTileOperands.Of(this)}",
        Opcode.Sfu when Function == (byte)SfuFunction.AttentionProbabilities => $"{Op} {AttentionProbabilityOperands.Of(this)}",
        Opcode.CoreAttentionShape => $"{Op} {CoreAttentionShape.Of(this)}",
        Opcode.CoreAppend or Opcode.CoreScores or Opcode.CoreValues => $"{Op} {CoreAttentionOperands.Of(this)}",
        Opcode.Sfu => $"{Op} {(SfuFunction)Function} len={A} rows={B} src=0x{C >> 16:x},0x{C & 0xffff:x} dst=0x{D & 0xffff:x} param={D >> 16}",
        _ => $"{Op}",
    } + (Wait != Units.None ? $" wait={Wait}" : "") + (Release != Units.None ? $" release={Release}" : "");
}
