using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// y[M, N] = x[M, K] · w[N, K]ᵀ with f32 weights. Slots: x, w, y, M, N. Work items: output columns
/// (weight rows), so each thread streams its own slice of the weights once whatever M is.
/// </summary>
public sealed record DenseLinearSpec(int K) : IKernelSpec
{
    public string Name => $"linear_f32_k{K}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), w = b.PointerSlot(slots, 1), y = b.PointerSlot(slots, 2);
        LValue m = b.Slot(slots, 3), n = b.Slot(slots, 4);
        var k = t.I64Const(K);
        b.For(begin, end, 1, j =>
        {
            var wRow = b.Gep(t.F32, w, b.Mul(j, k));
            DotProduct.EveryToken(b, x, wRow, m, n, j, y, K, lanes);
        });
    });
}

/// <summary>
/// y = x · wᵀ for a group-wise quantized w, dequantizing in registers (quant.qmatmul, weight accumulation):
/// each weight is scale · (code − zero) in f32 as the interpreter defines it. Slots: x, codes, scales (f32
/// [N, groups]), zeros (u8 [N, groups] or 0), y, M, N. For M = 1 (decode) the codes are decoded straight into
/// the FMAs; for M &gt; 1 a row is decoded once into a stack buffer and reused for every token.
/// </summary>
public sealed record QuantizedLinearSpec(QuantizedRows Rows) : IKernelSpec
{
    public static QuantizedLinearSpec For(QuantScheme scheme, int k) => new(QuantizedRows.For(scheme, k));

    public int RowBytes => Rows.RowBytes;

    public string Name => $"qlinear_{Rows.Key}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), codes = b.PointerSlot(slots, 1), scales = b.PointerSlot(slots, 2), zeros = b.PointerSlot(slots, 3);
        LValue y = b.PointerSlot(slots, 4), m = b.Slot(slots, 5), n = b.Slot(slots, 6);
        var decoder = Rows.Decoder(b);
        // Decoding works in 8-code steps; the dot runs 8 lanes wide to match.
        const int stepLanes = QuantizedRowDecoder.CodesPerStep;
        int k = Rows.K;
        var buffer = b.StackArray(t.F32, t.I64Const(k));
        b.For(begin, end, 1, j =>
        {
            var (rowCodes, rowScales, rowZeros) = Rows.Row(b, codes, scales, zeros, j);
            var vt = t.Vector(t.F32, stepLanes);
            var single = b.IEqual(m, t.I64Const(1));
            b.If(single, () =>
            {
                var dot = new DotProduct
                {
                    XVector = i => b.Load(vt, b.Gep(t.F32, x, i), 4),
                    WVector = i => decoder.Vector8(rowCodes, rowScales, rowZeros, i),
                    XScalar = i => b.Load(t.F32, b.Gep(t.F32, x, i), 4),
                    WScalar = i => decoder.Scalar(rowCodes, rowScales, rowZeros, i),
                }.Emit(b, stepLanes, k, Rows.VectorEnd);
                b.Store(dot, b.Gep(t.F32, y, j), 4);
            });
            b.If(b.ILess(t.I64Const(1), m), () =>
            {
                decoder.DecodeRow(rowCodes, rowScales, rowZeros, buffer, k, RowValues.Weights);
                DotProduct.EveryToken(b, x, buffer, m, n, j, y, k, lanes);
            });
        });
    });
}

/// <summary>
/// y = x · wᵀ accumulated per group (quant.qmatmul, accumulate = "group": MixPE): per group p = Σ x·(code − zero),
/// then y += scale · p, groups in order, as <see cref="IR.Semantics.QMatMulKernel.GroupAccumulate"/> defines it (float
/// semantics: the dot within a group is vectorised, so results agree to f32 rounding). Each row's centered codes are
/// decoded once into a stack buffer and reused by every token. Slots as <see cref="QuantizedLinearSpec"/>.
/// </summary>
public sealed record GroupAccumulateLinearSpec(QuantizedRows Rows) : IKernelSpec
{
    public static GroupAccumulateLinearSpec For(QuantScheme scheme, int k) => new(QuantizedRows.For(scheme, k));

    public string Name => $"glinear_{Rows.Key}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), codes = b.PointerSlot(slots, 1), scales = b.PointerSlot(slots, 2), zeros = b.PointerSlot(slots, 3);
        LValue y = b.PointerSlot(slots, 4), m = b.Slot(slots, 5), n = b.Slot(slots, 6);
        var decoder = Rows.Decoder(b);
        var (k, groupLength, groups) = (Rows.K, Rows.GroupLength, Rows.Groups);
        int lastLength = k - (groups - 1) * groupLength;
        var buffer = b.StackArray(t.F32, t.I64Const(k));
        b.For(begin, end, 1, j =>
        {
            var (rowCodes, rowScales, rowZeros) = Rows.Row(b, codes, scales, zeros, j);
            decoder.DecodeRow(rowCodes, rowScales, rowZeros, buffer, k, RowValues.CenteredFloats);
            b.For(t.I64Const(0), m, 1, r =>
            {
                var xRow = b.Gep(t.F32, x, b.Mul(r, t.I64Const(k)));
                LValue Partial(LValue start, int length) =>
                    DotProduct.OfFloats(b, b.Gep(t.F32, xRow, start), b.Gep(t.F32, buffer, start), lanes).Emit(b, lanes, length, length - length % lanes);
                LValue Scale(LValue q) => b.Load(t.F32, b.Gep(t.F32, rowScales, q), 4);
                var acc = b.For(t.I64Const(0), t.I64Const(groups - 1), 1, [t.F32Const(0f)], (q, a) =>
                    [b.FAdd(a[0], b.FMul(Scale(q), Partial(b.Mul(q, t.I64Const(groupLength)), groupLength)))])[0];
                var last = t.I64Const(groups - 1);
                acc = b.FAdd(acc, b.FMul(Scale(last), Partial(b.Mul(last, t.I64Const(groupLength)), lastLength)));
                b.Store(acc, b.Gep(t.F32, y, b.Add(b.Mul(r, n), j)), 4);
            });
        });
    });
}
