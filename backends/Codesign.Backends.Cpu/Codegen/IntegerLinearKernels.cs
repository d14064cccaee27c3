using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// Per-token symmetric absmax quantization of activations, bit for bit as <see cref="ActivationQuantizer"/> defines
/// it: scale = max|x| / qmax in f32, code = x / scale rounded half to even (llvm.roundeven), clamped to ±qmax; a
/// zero row has scale 0 and codes 0. Slots: x (f32 [M, K]), codes (i8 [M, K]), scales (f32 [M]). Work items: tokens.
/// </summary>
public sealed record ActivationQuantizeSpec(int K, int Bits) : IKernelSpec
{
    public string Name => $"quantize_activations_k{K}_a{Bits}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), codes = b.PointerSlot(slots, 1), scales = b.PointerSlot(slots, 2);
        int qmax = ActivationQuantizer.MaxCode(Bits);
        var k = t.I64Const(K);
        var fabs = module.Intrinsic("llvm.fabs.f32", t.F32, t.F32);
        var roundEven = module.Intrinsic("llvm.roundeven.f32", t.F32, t.F32);
        b.For(begin, end, 1, token =>
        {
            var row = b.Gep(t.F32, x, b.Mul(token, k));
            var amax = b.For(t.I64Const(0), k, 1, [t.F32Const(0f)], (c, a) => [b.MaxF32(a[0], b.Call(fabs, b.Load(t.F32, b.Gep(t.F32, row, c), 4)))])[0];
            var scale = b.FDiv(amax, t.F32Const(qmax));
            b.Store(scale, b.Gep(t.F32, scales, token), 4);
            var zero = b.FCmpEqual(scale, t.F32Const(0f));
            var outRow = b.Gep(t.I8, codes, b.Mul(token, k));
            b.For(t.I64Const(0), k, 1, c =>
            {
                var q = b.FPToSI(b.Call(roundEven, b.FDiv(b.Load(t.F32, b.Gep(t.F32, row, c), 4), scale)), t.I32);
                var clamped = b.IMin(b.Select(b.ILess(q, t.I32Const(-qmax)), t.I32Const(-qmax), q), t.I32Const(qmax));
                b.Store(b.Trunc(b.Select(zero, t.I32Const(0), clamped), t.I8), b.Gep(t.I8, outRow, c), 1);
            });
        });
    });
}

/// <summary>
/// y = x · wᵀ with integer activations and weights (quant.qmatmul with act_bits, W8A8 / W4A8 as QServe runs it),
/// bit-exact with <see cref="QMatMulKernel.IntegerGroupAccumulate"/>: per group the integer dot Σ a·(code − zero) is
/// exact (i32, or i64 when a group could overflow it), then acc += (scale_w · scale_a) · dot in f32, groups in order.
/// Each weight row is decoded once into centered i16 codes on the stack and reused by every token. Slots: codes of
/// the activations (i8 [M, K]), their scales (f32 [M]), packed weight codes, weight scales (f32 [N, groups]), zero
/// points (u8 [N, groups] or 0), y, M, N. Work items: output columns (weight rows).
/// </summary>
public sealed record IntegerLinearSpec(QuantizedRows Rows, int ActBits) : IKernelSpec
{
    public static IntegerLinearSpec For(QuantScheme scheme, int k, int actBits) => new(QuantizedRows.For(scheme, k), actBits);

    /// <summary>Whether a group's dot can leave i32: |a| ≤ qmax, |code − zero| &lt; 2^bits.</summary>
    public bool WideDots => (long)ActivationQuantizer.MaxCode(ActBits) * (1L << Rows.Bits) * Rows.GroupLength >= int.MaxValue;

    public string Name => $"ilinear_a{ActBits}_{Rows.Key}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue a = b.PointerSlot(slots, 0), aScales = b.PointerSlot(slots, 1), codes = b.PointerSlot(slots, 2), scales = b.PointerSlot(slots, 3);
        LValue zeros = b.PointerSlot(slots, 4), y = b.PointerSlot(slots, 5), m = b.Slot(slots, 6), n = b.Slot(slots, 7);
        var decoder = Rows.Decoder(b);
        var dotType = WideDots ? t.I64 : t.I32;
        var k = t.I64Const(Rows.K);
        var centered = b.StackArray(t.I16, k);
        b.For(begin, end, 1, j =>
        {
            var (rowCodes, rowScales, rowZeros) = Rows.Row(b, codes, scales, zeros, j);
            decoder.DecodeRow(rowCodes, rowScales, rowZeros, centered, Rows.K, RowValues.CenteredShorts);
            b.For(t.I64Const(0), m, 1, token =>
            {
                var aRow = b.Gep(t.I8, a, b.Mul(token, k));
                var aScale = b.Load(t.F32, b.Gep(t.F32, aScales, token), 4);
                var acc = b.For(t.I64Const(0), t.I64Const(Rows.Groups), 1, [t.F32Const(0f)], (q, acc0) =>
                {
                    var start = b.Mul(q, t.I64Const(Rows.GroupLength));
                    var stop = b.IMin(b.Add(start, t.I64Const(Rows.GroupLength)), k);
                    // An integer reduction: LLVM's vectoriser may reorder it freely, the sum is exact either way.
                    var dot = b.For(start, stop, 1, [t.Zero(dotType)], (c, d) =>
                    {
                        var w = b.SExt(b.Load(t.I16, b.Gep(t.I16, centered, c), 2), dotType);
                        var product = b.Mul(b.SExt(b.Load(t.I8, b.Gep(t.I8, aRow, c)), dotType), w);
                        return [b.Add(d[0], product)];
                    })[0];
                    var scale = b.FMul(b.Load(t.F32, b.Gep(t.F32, rowScales, q), 4), aScale);
                    return [b.FAdd(acc0[0], b.FMul(scale, b.SIToFP(dot, t.F32)))];
                })[0];
                b.Store(acc, b.Gep(t.F32, y, b.Add(b.Mul(token, n), j)), 4);
            });
        });
    });
}
