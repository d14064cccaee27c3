using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

public enum ElementwiseKind { Add, Mul, Silu }

/// <summary>
/// math.add, math.mul (same shapes) and nn.silu (x · 1/(1 + e^−x)) over flat f32 arrays. Slots: a, b (unused
/// by silu), y. Work items: elements; LLVM's loop vectoriser widens add and mul.
/// </summary>
public sealed record ElementwiseSpec(ElementwiseKind Kind) : IKernelSpec
{
    public string Name => "elementwise_" + Kind.ToString().ToLowerInvariant();

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue a = b.PointerSlot(slots, 0), c = b.PointerSlot(slots, 1), y = b.PointerSlot(slots, 2);
        b.For(begin, end, 1, i =>
        {
            var x = b.Load(t.F32, b.Gep(t.F32, a, i), 4);
            LValue result = Kind switch
            {
                ElementwiseKind.Add => b.FAdd(x, b.Load(t.F32, b.Gep(t.F32, c, i), 4)),
                ElementwiseKind.Mul => b.FMul(x, b.Load(t.F32, b.Gep(t.F32, c, i), 4)),
                _ => b.FMul(x, b.FDiv(t.F32Const(1), b.FAdd(t.F32Const(1), b.Exp(b.FSub(t.F32Const(-0.0f), x))))),
            };
            b.Store(result, b.Gep(t.F32, y, i), 4);
        });
    });
}
