namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// The operands of the attention instructions on the matrix cores, in the shape the last
/// <see cref="Opcode.CoreAttentionShape"/> set (<see cref="CoreAttentionShape"/>). Core g of a round serves kv head
/// <see cref="FirstKvHead"/> + g (g below <see cref="KvHeads"/>; the other cores idle), whose key and value regions
/// are at <see cref="Offset"/> (16-byte units) in its own channel (docs/fpga.md, "Attention on the matrix cores").
/// A = the offset; C = first kv head « 16 | kv heads in the round; D = input « 16 | output (activation-buffer units).
/// <list type="bullet">
/// <item><see cref="Opcode.CoreAppend"/> (function 0 keys, 1 values): B = <see cref="Position"/> « 16 | tokens. Each
/// token's row of each kv head of the round, from the input [tokens, kv heads, head dim], is quantized to int8
/// (ActivationQuantizer) and written at position + t; values also write their rows' scales to the output, as words
/// [tokens, kv heads rounded up to 4].</item>
/// <item><see cref="Opcode.CoreScores"/>: B = <see cref="Keys"/> « 16 | tokens. Each query row [tokens, heads, head dim]
/// of the round's heads is quantized and scored against the first keys positions: output row (token · heads + head),
/// of the shape's stride, word j = (s_k[j] · s_q) · Σ q·k.</item>
/// <item><see cref="Opcode.CoreValues"/>: B = tokens. Each probability row (of the stride's words) is quantized and
/// multiplied with the value codes: output [tokens, heads, head dim], word d = (1 · s_p) · Σ p·v.</item>
/// </list>
/// </summary>
public readonly record struct CoreAttentionOperands(Opcode Op, bool Values, long Offset, int Position, int Keys, int Tokens, int FirstKvHead, int KvHeads, int Input, int Output)
{
    public static bool Is(Instruction i) => i.Op is Opcode.CoreAppend or Opcode.CoreScores or Opcode.CoreValues;

    public static CoreAttentionOperands Of(Instruction i) => new(i.Op, i.Op == Opcode.CoreAppend && i.Function == 1, i.A,
        i.Op == Opcode.CoreAppend ? (int)(i.B >> 16) : 0, i.Op == Opcode.CoreScores ? (int)(i.B >> 16) : 0, (int)(i.B & 0xffff),
        (int)(i.C >> 16), (int)(i.C & 0xffff), (int)(i.D >> 16), (int)(i.D & 0xffff));

    public static CoreAttentionOperands Append(bool values, long offset, int position, int tokens, int firstKvHead, int kvHeads, int input, int scales) =>
        new(Opcode.CoreAppend, values, offset, position, 0, tokens, firstKvHead, kvHeads, input, values ? scales : 0);

    public static CoreAttentionOperands Scores(long offset, int keys, int tokens, int firstKvHead, int kvHeads, int input, int output) =>
        new(Opcode.CoreScores, false, offset, 0, keys, tokens, firstKvHead, kvHeads, input, output);

    public static CoreAttentionOperands ValuesOf(long offset, int tokens, int firstKvHead, int kvHeads, int input, int output) =>
        new(Opcode.CoreValues, false, offset, 0, 0, tokens, firstKvHead, kvHeads, input, output);

    public Instruction Encode() =>
        new(Op, (byte)(Values ? 1 : 0), Units.None, Units.Matrix, checked((uint)Offset),
            Op switch
            {
                Opcode.CoreAppend => Instruction.Pack16(Position, Tokens),
                Opcode.CoreScores => Instruction.Pack16(Keys, Tokens),
                _ => Instruction.Pack16(0, Tokens),
            },
            Instruction.Pack16(FirstKvHead, KvHeads), Instruction.Pack16(Input, Output));

    public override string ToString() => Op switch
    {
        Opcode.CoreAppend => $"{(Values ? "values" : "keys")} at=0x{Offset:x} position={Position} tokens={Tokens} kv_heads={FirstKvHead}+{KvHeads} in=0x{Input:x}{(Values ? $" scales=0x{Output:x}" : "")}",
        Opcode.CoreScores => $"at=0x{Offset:x} keys={Keys} tokens={Tokens} kv_heads={FirstKvHead}+{KvHeads} in=0x{Input:x} out=0x{Output:x}",
        _ => $"at=0x{Offset:x} tokens={Tokens} kv_heads={FirstKvHead}+{KvHeads} in=0x{Input:x} out=0x{Output:x}",
    };
}
