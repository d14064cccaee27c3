using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// The operands of <see cref="SfuFunction.AttentionProbabilities"/>: for each (token, head) row of whole scores
/// (rows token-major, <see cref="Stride"/> words apart, in place), the softmax over the keys the row sees, each
/// probability times its value row's scale, and zeros up to the stride — the rows <see cref="Opcode.CoreValues"/>
/// quantizes. A = stride « 16 | keys; B = reach « 16 | tokens; C = scores « 16 | value scales (words [keys, kv
/// stride]: position j's scale for kv head g at j · kv stride + g); D = parameter (the f32 attention scale) « 16 | kv
/// stride « 8 | query heads per kv head; the header's byte 24..31 = heads per token.
/// </summary>
/// <param name="Reach">The keys the step's first token sees (its position + 1); token t sees <see cref="Visible"/>.</param>
public readonly record struct AttentionProbabilityOperands(int Stride, int Keys, int Reach, int Tokens, int Heads, int Scores, int ValueScales, int Parameter, int KvStride, int QueryGroup)
{
    public int Rows => Tokens * Heads;

    /// <summary>The keys row <paramref name="row"/> sees: the first clamp(reach + its token, 0, keys) (the causal mask).</summary>
    public int Visible(int row) => Math.Clamp(Reach + row / Math.Max(Heads, 1), 0, Keys);

    public static AttentionProbabilityOperands Of(Instruction i) => new((int)(i.A >> 16), (int)(i.A & 0xffff), (int)(i.B >> 16), (int)(i.B & 0xffff),
        i.Layout, (int)(i.C >> 16), (int)(i.C & 0xffff), (int)(i.D >> 16), (int)(i.D >> 8 & 0xff), (int)(i.D & 0xff));

    public Instruction Encode(Units wait, Units release)
    {
        if (Parameter is < 0 or > ushort.MaxValue)
            throw new CodesignException($"fpga isa: a parameter at unit {Parameter}; the field holds 0 to 65535");
        if (Heads is < 1 or > byte.MaxValue || KvStride is < 1 or > byte.MaxValue || QueryGroup is < 1 or > byte.MaxValue)
            throw new CodesignException($"fpga isa: attention probabilities over {Heads} heads, {QueryGroup} a kv head, value scales {KvStride} words a position; the fields hold 1 to 255");
        return new Instruction(Opcode.Sfu, (byte)SfuFunction.AttentionProbabilities, wait, release, Instruction.Pack16(Stride, Keys),
            Instruction.Pack16(Reach, Tokens), Instruction.Pack16(Scores, ValueScales), (uint)Parameter << 16 | (uint)KvStride << 8 | (uint)QueryGroup, (byte)Heads);
    }

    public override string ToString() =>
        $"stride={Stride} keys={Keys} reach={Reach} tokens={Tokens} heads={Heads} scores=0x{Scores:x} value_scales=0x{ValueScales:x} param={Parameter} kv_stride={KvStride} group={QueryGroup}";
}
