using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>nn.embedding: row ids[s] of the f32 table. Slots: ids (i32, checked by the runtime), table, y. Work items: tokens.</summary>
public sealed record EmbeddingSpec(int D) : IKernelSpec
{
    public string Name => $"embedding_d{D}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue ids = b.PointerSlot(slots, 0), table = b.PointerSlot(slots, 1), y = b.PointerSlot(slots, 2);
        var d = t.I64Const(D);
        b.For(begin, end, 1, s =>
        {
            var id = b.SExt(b.Load(t.I32, b.Gep(t.I32, ids, s), 4), t.I64);
            var src = b.Gep(t.F32, table, b.Mul(id, d));
            var dst = b.Gep(t.F32, y, b.Mul(s, d));
            b.For(t.I64Const(0), d, 1, i => b.Store(b.Load(t.F32, b.Gep(t.F32, src, i), 4), b.Gep(t.F32, dst, i), 4));
        });
    });
}
