using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// y = x · wᵀ for a pruned w (sparse.spmatmul, every sparse format) stored as gathered rows: per output row its
/// kept weights' f32 values and their column indices (u16 when K fits, else i32), rows delimited by i64 row starts.
/// For one token (decode) each row's activations are gathered 8 lanes wide (llvm.masked.gather: vgatherdps with
/// AVX2) and accumulated with FMAs, so pruned weights cost neither bandwidth nor arithmetic; for several tokens
/// (prefill) the row is scattered once into a dense stack buffer and every token takes a dense dot with it.
/// Slots: x, row starts (i64 [N+1]), columns, values (f32), y, M, N. Work items: output rows.
/// </summary>
public sealed record SparseLinearSpec(int K) : IKernelSpec
{
    private const int Lanes = 8;

    /// <summary>Bytes of one column index: 2 when every column of K fits in 16 bits.</summary>
    public int IndexBytes => IndexBytesFor(K);

    public static int IndexBytesFor(int k) => k <= 1 << 16 ? sizeof(ushort) : sizeof(int);

    public string Name => $"sparse_linear_k{K}_i{IndexBytes * 8}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), starts = b.PointerSlot(slots, 1), columns = b.PointerSlot(slots, 2), values = b.PointerSlot(slots, 3);
        LValue y = b.PointerSlot(slots, 4), m = b.Slot(slots, 5), n = b.Slot(slots, 6);
        var indexType = IndexBytes == 2 ? t.I16 : t.I32;
        var vf = t.Vector(t.F32, Lanes);
        var gather = module.Intrinsic("llvm.masked.gather.v8f32.v8p0", vf, t.Vector(t.Ptr, Lanes), t.I32, t.Vector(t.I1, Lanes), vf);
        var allLanes = t.ConstInts(t.I1, Enumerable.Repeat(1L, Lanes));
        var k = t.I64Const(K);
        var dense = b.StackArray(t.F32, k);
        b.For(begin, end, 1, row =>
        {
            var first = b.Load(t.I64, b.Gep(t.I64, starts, row), 8);
            var last = b.Load(t.I64, b.Gep(t.I64, starts, b.Add(row, t.I64Const(1))), 8);
            LValue Column(LValue i) => b.ZExt(b.Load(indexType, b.Gep(indexType, columns, i), IndexBytes), t.I64);
            LValue Value(LValue i) => b.Load(t.F32, b.Gep(t.F32, values, i), 4);
            b.If(b.IEqual(m, t.I64Const(1)), () =>
            {
                // Decode: gather the activations of the kept weights, 8 at a time.
                var vectorEnd = b.Sub(last, b.SRem(b.Sub(last, first), t.I64Const(Lanes)));
                var acc = b.For(first, vectorEnd, Lanes, [t.Zero(vf)], (i, a) =>
                {
                    var cols = b.ZExt(b.Load(t.Vector(indexType, Lanes), b.Gep(indexType, columns, i), IndexBytes), t.Vector(t.I64, Lanes));
                    var gathered = b.Call(gather, b.Gep(t.F32, x, cols), t.I32Const(4), allLanes, t.Undef(vf));
                    return [b.Fma(gathered, b.Load(vf, b.Gep(t.F32, values, i), 4), a[0], Lanes)];
                })[0];
                var sum = b.ReduceAdd(t.F32Const(-0.0f), acc, Lanes);
                sum = b.For(vectorEnd, last, 1, [sum], (i, a) => [b.Fma(b.Load(t.F32, b.Gep(t.F32, x, Column(i)), 4), Value(i), a[0])])[0];
                b.Store(sum, b.Gep(t.F32, y, row), 4);
            });
            b.If(b.ILess(t.I64Const(1), m), () =>
            {
                // Prefill: scatter the row into a dense stack buffer once, then a dense dot per token.
                b.For(t.I64Const(0), k, 1, c => b.Store(t.F32Const(0f), b.Gep(t.F32, dense, c), 4));
                b.For(first, last, 1, i => b.Store(Value(i), b.Gep(t.F32, dense, Column(i)), 4));
                DotProduct.EveryToken(b, x, dense, m, n, row, y, K, lanes);
            });
        });
    });
}
