using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// What the quantized kernels specialise on: the bit width, K, the group length and count, and whether zero points
/// are stored (else the scheme's implicit zero). One record for every kernel that decodes our packed rows.
/// </summary>
public sealed record QuantizedRows(int Bits, int K, int GroupLength, int Groups, bool StoredZeros, int ImplicitZero)
{
    public static QuantizedRows For(Codesign.IR.Types.QuantScheme scheme, int k) =>
        new(scheme.Bits, k, scheme.GroupLength(k), scheme.GroupCount(k), !scheme.Symmetric, scheme.Symmetric ? scheme.ImplicitZero : 0);

    public int RowBytes => (K * Bits + 7) / 8;

    /// <summary>The part of a kernel's name that identifies the rows: "b4_k4096_g128_z".</summary>
    public string Key => $"b{Bits}_k{K}_g{GroupLength}_{(StoredZeros ? "z" : $"s{ImplicitZero}")}";

    /// <summary>Codes [0, VectorEnd) decode 8 at a time (steps never straddle a group); the rest one by one.</summary>
    public long VectorEnd => QuantizedRowDecoder.Vectorizable(GroupLength, K) ? K - K % QuantizedRowDecoder.CodesPerStep : 0;

    internal QuantizedRowDecoder Decoder(IrBuilder b) => new(b, Bits, GroupLength, ImplicitZero, StoredZeros, RowBytes);

    /// <summary>Row <paramref name="row"/>'s codes, scales (f32) and zero points, as pointers.</summary>
    internal (LValue Codes, LValue Scales, LValue Zeros) Row(IrBuilder b, LValue codes, LValue scales, LValue zeros, LValue row)
    {
        var t = b.T;
        return (b.Gep(t.I8, codes, b.Mul(row, t.I64Const(RowBytes))),
            b.Gep(t.F32, scales, b.Mul(row, t.I64Const(Groups))),
            StoredZeros ? b.Gep(t.I8, zeros, b.Mul(row, t.I64Const(Groups))) : zeros);
    }
}

/// <summary>What <see cref="QuantizedRowDecoder.DecodeRow"/> writes per weight.</summary>
internal enum RowValues
{
    /// <summary>scale · (code − zero) as f32: the interpreter's dequantized weight.</summary>
    Weights,
    /// <summary>code − zero as f32 (exact).</summary>
    CenteredFloats,
    /// <summary>code − zero as i16 (|code − zero| &lt; 2^8): products with i8 activations map onto vpmaddwd.</summary>
    CenteredShorts,
}

/// <summary>
/// Emits the dequantization of one row of a group-wise quantized matrix in our packed layout
/// (docs/weight-formats.md: codes LSB first, each row starting on a byte): w = scale · (code − zero) in f32,
/// exactly the interpreter's value. Eight codes at a time occupy <c>bits</c> whole bytes, so a vector step
/// loads one small integer, shifts each lane by its code's bit offset and masks.
/// </summary>
internal sealed class QuantizedRowDecoder(IrBuilder b, int bits, int groupLength, int implicitZero, bool storedZeros, int rowBytes)
{
    public const int CodesPerStep = 8;

    /// <summary>Whether 8-code steps never straddle a group: then each step has one scale and zero.</summary>
    public static bool Vectorizable(int groupLength, int k) => groupLength % CodesPerStep == 0 || groupLength >= k;

    private LlvmTypes T => b.T;

    /// <summary>Decodes a whole row of <paramref name="k"/> codes into <paramref name="buffer"/> (f32 or i32 per <paramref name="values"/>).</summary>
    public void DecodeRow(LValue codes, LValue scales, LValue zeros, LValue buffer, long k, RowValues values)
    {
        long vectorEnd = Vectorizable(groupLength, (int)k) ? k - k % CodesPerStep : 0;
        var element = values == RowValues.CenteredShorts ? T.I16 : T.F32;
        LValue Vector(LValue c) => values switch
        {
            RowValues.Weights => Vector8(codes, scales, zeros, c),
            RowValues.CenteredFloats => b.SIToFP(CenteredVector8(codes, zeros, c), T.Vector(T.F32, CodesPerStep)),
            _ => b.Trunc(CenteredVector8(codes, zeros, c), T.Vector(T.I16, CodesPerStep)),
        };
        LValue Single(LValue c) => values switch
        {
            RowValues.Weights => Scalar(codes, scales, zeros, c),
            RowValues.CenteredFloats => b.SIToFP(CenteredScalar(codes, zeros, c), T.F32),
            _ => b.Trunc(CenteredScalar(codes, zeros, c), T.I16),
        };
        if (vectorEnd > 0)
            b.For(T.I64Const(0), T.I64Const(vectorEnd), CodesPerStep, c => b.Store(Vector(c), b.Gep(element, buffer, c), 2));
        if (k > vectorEnd)
            b.For(T.I64Const(vectorEnd), T.I64Const(k), 1, c => b.Store(Single(c), b.Gep(element, buffer, c), 2));
    }

    /// <summary>The 8 weights starting at column <paramref name="c"/> (a multiple of 8) as &lt;8 x float&gt;.</summary>
    public LValue Vector8(LValue codes, LValue scales, LValue zeros, LValue c) =>
        b.FMul(b.Splat(Scale(scales, c), 8), b.SIToFP(CenteredVector8(codes, zeros, c), T.Vector(T.F32, 8)));

    /// <summary>The weight at column <paramref name="c"/>, for tails and group sizes that are not multiples of 8.</summary>
    public LValue Scalar(LValue codes, LValue scales, LValue zeros, LValue c) =>
        b.FMul(Scale(scales, c), b.SIToFP(CenteredScalar(codes, zeros, c), T.F32));

    /// <summary>code − zero of the 8 weights starting at column <paramref name="c"/> (a multiple of 8), as &lt;8 x i32&gt;.</summary>
    public LValue CenteredVector8(LValue codes, LValue zeros, LValue c)
    {
        var v8i32 = T.Vector(T.I32, 8);
        var bytePtr = b.Gep(T.I8, codes, b.Mul(b.LShr(c, T.I64Const(3)), T.I64Const(bits)));
        LValue lanes;
        if (bits == 8)
        {
            lanes = b.ZExt(b.Load(T.Vector(T.I8, 8), bytePtr), v8i32);
        }
        else
        {
            bool wide = 8 * bits > 32;
            var laneType = wide ? T.I64 : T.I32;
            var word = b.ZExt(b.Load(T.Int(8 * bits), bytePtr), laneType);
            var shifts = T.ConstVector(Enumerable.Range(0, 8).Select(j => T.Const(laneType, j * bits)).ToArray());
            var shifted = b.LShr(b.Splat(word, 8), shifts);
            if (wide) shifted = b.Trunc(shifted, v8i32);
            lanes = b.And(shifted, b.Splat(T.I32Const((1 << bits) - 1), 8));
        }
        return b.Sub(lanes, b.Splat(Zero(zeros, c), 8));
    }

    /// <summary>code − zero of the weight at column <paramref name="c"/>, as i32.</summary>
    public LValue CenteredScalar(LValue codes, LValue zeros, LValue c)
    {
        var bit = b.Mul(c, T.I64Const(bits));
        var index = b.LShr(bit, T.I64Const(3));
        var lo = b.ZExt(b.Load(T.I8, b.Gep(T.I8, codes, index)), T.I32);
        // The next byte only matters when the code straddles; clamping keeps the read inside the row.
        var next = b.IMin(b.Add(index, T.I64Const(1)), T.I64Const(rowBytes - 1));
        var hi = b.ZExt(b.Load(T.I8, b.Gep(T.I8, codes, next)), T.I32);
        var word = b.Or(lo, b.Shl(hi, T.I32Const(8)));
        var shift = b.Trunc(b.And(bit, T.I64Const(7)), T.I32);
        var code = b.And(b.LShr(word, shift), T.I32Const((1 << bits) - 1));
        return b.Sub(code, Zero(zeros, c));
    }

    private LValue Scale(LValue scales, LValue c) => b.Load(T.F32, b.Gep(T.F32, scales, b.SDiv(c, T.I64Const(groupLength))), 4);

    private LValue Zero(LValue zeros, LValue c) =>
        storedZeros ? b.ZExt(b.Load(T.I8, b.Gep(T.I8, zeros, b.SDiv(c, T.I64Const(groupLength)))), T.I32) : T.I32Const(implicitZero);
}
