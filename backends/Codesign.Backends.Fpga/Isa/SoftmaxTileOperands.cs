using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// The operands of a <see cref="SfuFunction.SoftmaxTile"/> instruction: one KV tile's online softmax for the step's
/// (token, head) rows, with the causal mask inside the tile. A = head dim « 17 | first-tile flag « 16 | the tile's
/// keys; B = reach « 16 | tokens; C = scores | attention output; D = parameter (the f32 scale) | state; the header's
/// byte 24..31 = heads per token. Rows are token-major (token · heads + head).
/// </summary>
/// <param name="Reach">
/// How many of the tile's keys the step's last token sees: context − the tile's first position, clamped to the tile
/// plus the chunk (so a bucket program patches it). Token t of a step of T sees <see cref="Visible"/> keys: the reach
/// less the T − 1 − t tokens after it, the causal mask. In decode (T = 1) it is every key of the tile.
/// </param>
public readonly record struct SoftmaxTileOperands(int HeadDim, bool First, int Keys, int Reach, int Tokens, int Heads, int Scores, int Output, int Parameter, int State)
{
    public int Rows => Tokens * Heads;

    /// <summary>The keys row <paramref name="row"/> attends to in this tile: the first ones; the rest are masked (p = 0).</summary>
    public int Visible(int row) => Math.Clamp(Reach - (Tokens - 1 - row / Heads), 0, Keys);

    public static SoftmaxTileOperands Of(Instruction i) => new((int)(i.A >> 17), (i.A >> 16 & 1) != 0, (int)(i.A & 0xffff),
        (int)(i.B >> 16), (int)(i.B & 0xffff), i.Layout, (int)(i.C >> 16), (int)(i.C & 0xffff), (int)(i.D >> 16), (int)(i.D & 0xffff));

    public Instruction Encode(Units wait, Units release)
    {
        if (HeadDim is < 0 or >= 1 << 15 || Heads is < 0 or > byte.MaxValue)
            throw new CodesignException($"fpga isa: a softmax tile of head dim {HeadDim} over {Heads} heads a token; the fields hold head dims below 32768 and up to 255 heads");
        return new Instruction(Opcode.Sfu, (byte)SfuFunction.SoftmaxTile, wait, release, (uint)HeadDim << 17 | (First ? 1u << 16 : 0) | Pack(Keys),
            Instruction.Pack16(Reach, Tokens), Instruction.Pack16(Scores, Output), Instruction.Pack16(Parameter, State), (byte)Heads);
    }

    private static uint Pack(int keys) => keys is >= 0 and <= ushort.MaxValue ? (uint)keys : throw new CodesignException($"fpga isa: a tile of {keys} keys");
}
