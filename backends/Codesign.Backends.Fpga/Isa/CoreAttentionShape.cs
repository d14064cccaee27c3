using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// The operands of <see cref="Opcode.CoreAttentionShape"/>: what every later attention instruction on the cores
/// (<see cref="CoreAttentionOperands"/>) takes for granted until the next shape. A = the positions a core's key and
/// value regions hold (<see cref="Capacity"/>, a multiple of 64: the value codes' row stride in bytes); B = head dim « 16
/// | the words of a score and probability row (<see cref="Stride"/>, a multiple of 64 up to the capacity: the columns
/// the value instruction reads); C = query heads « 16 | kv heads, per token; D = query heads per kv head (the
/// hardware checks the product rather than divide).
/// </summary>
public readonly record struct CoreAttentionShape(int Capacity, int HeadDim, int Stride, int Heads, int KvHeads, int QueryGroup)
{
    /// <summary>Capacity and stride are multiples of the widest beat, so every row of value codes starts on a beat and is whole beats.</summary>
    public const int Alignment = 64;

    /// <summary>The positions a cache or a score row holds for a context of <paramref name="context"/> (at least one): rounded up to <see cref="Alignment"/>.</summary>
    public static int Positions(int context) => (Math.Max(context, 1) + Alignment - 1) / Alignment * Alignment;

    public static CoreAttentionShape Of(Instruction i) => new((int)i.A, (int)(i.B >> 16), (int)(i.B & 0xffff),
        (int)(i.C >> 16), (int)(i.C & 0xffff), (int)i.D);

    public Instruction Encode() =>
        new(Opcode.CoreAttentionShape, 0, Units.None, Units.None, checked((uint)Capacity), Instruction.Pack16(HeadDim, Stride),
            Instruction.Pack16(Heads, KvHeads), checked((uint)QueryGroup));

    /// <summary>Why the cores refuse the shape (fault 1), or null.</summary>
    public string? Problem() =>
        Capacity < Alignment || Capacity % Alignment != 0 || Capacity > ushort.MaxValue ? $"a capacity of {Capacity} positions (a multiple of {Alignment} up to 65535)"
        : HeadDim < 16 || HeadDim % 16 != 0 ? $"a head dim of {HeadDim} (a multiple of 16)"
        : Stride < Alignment || Stride % Alignment != 0 || Stride > Capacity ? $"score rows of {Stride} words (a multiple of {Alignment} up to the capacity {Capacity})"
        : KvHeads < 1 || QueryGroup < 1 || (long)KvHeads * QueryGroup != Heads || Heads > byte.MaxValue ? $"{Heads} query heads as {QueryGroup} for each of {KvHeads} kv heads (up to 255 heads)"
        : null;

    public override string ToString() => $"capacity={Capacity} head_dim={HeadDim} stride={Stride} heads={Heads} kv_heads={KvHeads} group={QueryGroup}";

    /// <summary>The shape for heads of <paramref name="headDim"/>, refused with its reason.</summary>
    public CoreAttentionShape Checked() => Problem() is { } problem ? throw new CodesignException($"fpga isa: attention on the cores with {problem}") : this;
}
