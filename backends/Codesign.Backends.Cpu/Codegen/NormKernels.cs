using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// nn.rms_norm over rows of D: the mean of squares summed in f64 as the interpreter does, inv = 1/sqrt(mean + eps)
/// rounded to f32, y = (x · inv) · w. Slots: x, w, y. Work items: rows.
/// </summary>
public sealed record RmsNormSpec(int D, double Eps) : IKernelSpec
{
    public string Name => $"rms_norm_d{D}_e{BitConverter.DoubleToInt64Bits(Eps):x}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), w = b.PointerSlot(slots, 1), y = b.PointerSlot(slots, 2);
        var d = t.I64Const(D);
        b.For(begin, end, 1, r =>
        {
            var row = b.Gep(t.F32, x, b.Mul(r, d));
            var outRow = b.Gep(t.F32, y, b.Mul(r, d));
            var sum = b.For(t.I64Const(0), d, 1, [t.F64Const(0)], (i, acc) =>
            {
                var v = b.FPExt(b.Load(t.F32, b.Gep(t.F32, row, i), 4), t.F64);
                return [b.FAdd(acc[0], b.FMul(v, v))];
            })[0];
            var inv = b.FPTrunc(b.FDiv(t.F64Const(1), b.SqrtF64(b.FAdd(b.FDiv(sum, t.F64Const(D)), t.F64Const(Eps)))), t.F32);
            b.For(t.I64Const(0), d, 1, i =>
            {
                var v = b.FMul(b.Load(t.F32, b.Gep(t.F32, row, i), 4), inv);
                b.Store(b.FMul(v, b.Load(t.F32, b.Gep(t.F32, w, i), 4)), b.Gep(t.F32, outRow, i), 4);
            });
        });
    });
}

/// <summary>nn.softmax over rows of D, max-subtracted. Slots: x, y. Work items: rows.</summary>
public sealed record SoftmaxSpec(int D) : IKernelSpec
{
    public string Name => $"softmax_d{D}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), y = b.PointerSlot(slots, 1);
        var d = t.I64Const(D);
        b.For(begin, end, 1, r =>
            SoftmaxRow.Emit(b, b.Gep(t.F32, x, b.Mul(r, d)), b.Gep(t.F32, y, b.Mul(r, d)), d));
    });
}

/// <summary>One softmax row: max, Σ e^(x − max), then each e^(x − max) / Σ; shared by softmax and attention.</summary>
internal static class SoftmaxRow
{
    public static void Emit(IrBuilder b, LValue x, LValue y, LValue length)
    {
        var t = b.T;
        var max = b.For(t.I64Const(0), length, 1, [t.F32Const(float.NegativeInfinity)], (i, acc) =>
            [b.MaxF32(acc[0], b.Load(t.F32, b.Gep(t.F32, x, i), 4))])[0];
        var sum = b.For(t.I64Const(0), length, 1, [t.F32Const(0)], (i, acc) =>
        {
            var e = b.Exp(b.FSub(b.Load(t.F32, b.Gep(t.F32, x, i), 4), max));
            b.Store(e, b.Gep(t.F32, y, i), 4);
            return [b.FAdd(acc[0], e)];
        })[0];
        var inv = b.FDiv(t.F32Const(1), sum);
        b.For(t.I64Const(0), length, 1, i =>
        {
            var p = b.Gep(t.F32, y, i);
            b.Store(b.FMul(b.Load(t.F32, p, 4), inv), p, 4);
        });
    }
}
