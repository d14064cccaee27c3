using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// nn.rope in the Hugging Face "rotate half" layout: dim i pairs with i + d/2, angle = position · θ^(−2i/d)
/// (the inverse frequencies computed at compile time exactly as the interpreter computes them, then cos/sin
/// of the f32 angle). Slots: x [T, H, D], positions (i32 [T]), y. Work items: tokens.
/// </summary>
public sealed record RopeSpec(int Heads, int HeadDim, double Theta) : IKernelSpec
{
    public string Name => $"rope_h{Heads}_d{HeadDim}_t{BitConverter.DoubleToInt64Bits(Theta):x}";

    public static float[] InverseFrequencies(int headDim, double theta) =>
        Enumerable.Range(0, headDim / 2).Select(i => (float)(1.0 / Math.Pow(theta, (float)(2 * i) / headDim))).ToArray();

    public void Emit(LlvmModule module, int lanes)
    {
        var table = module.ConstantF32Table(Name + "_inv_freq", InverseFrequencies(HeadDim, Theta));
        KernelAbi.Define(module, Name, (b, slots, begin, end) =>
        {
            var t = b.T;
            LValue x = b.PointerSlot(slots, 0), positions = b.PointerSlot(slots, 1), y = b.PointerSlot(slots, 2);
            int half = HeadDim / 2;
            b.For(begin, end, 1, s =>
            {
                var pos = b.SIToFP(b.Load(t.I32, b.Gep(t.I32, positions, s), 4), t.F32);
                b.For(t.I64Const(0), t.I64Const(half), 1, i =>
                {
                    var angle = b.FMul(pos, b.Load(t.F32, b.Gep(t.F32, table, i), 4));
                    LValue cos = b.Cos(angle), sin = b.Sin(angle);
                    b.For(t.I64Const(0), t.I64Const(Heads), 1, h =>
                    {
                        var o = b.Mul(b.Add(b.Mul(s, t.I64Const(Heads)), h), t.I64Const(HeadDim));
                        var lo = b.Add(o, i);
                        var hi = b.Add(lo, t.I64Const(half));
                        var a = b.Load(t.F32, b.Gep(t.F32, x, lo), 4);
                        var c = b.Load(t.F32, b.Gep(t.F32, x, hi), 4);
                        b.Store(b.FSub(b.FMul(a, cos), b.FMul(c, sin)), b.Gep(t.F32, y, lo), 4);
                        b.Store(b.FAdd(b.FMul(c, cos), b.FMul(a, sin)), b.Gep(t.F32, y, hi), 4);
                    });
                });
            });
        });
    }
}
