using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// y = x · wᵀ for N:M sparsity that keeps half of every 8 columns (2:4, 4:8, 1:2): each window of 8 activations
/// holds exactly 4 kept weights, so per 16 columns the kernel loads x densely, picks the 8 kept lanes with two
/// vpermps (llvm.x86.avx2.permps) and a blend, and takes one 8-wide FMA with the kept values. No gathers; the
/// weights cost a u8 window index and an f32 value per kept weight (2.5 bytes per weight against dense f32's 4).
/// Prefill scatters each row once into a dense buffer. Slots: x, indices (u8 [N, K/2]), values (f32 [N, K/2]),
/// y, M, N. Work items: output rows.
/// </summary>
public sealed record HalfSparseLinearSpec(int K) : IKernelSpec
{
    public const string RequiredFeature = "avx2";
    public const int Window = 8;

    /// <summary>Whether <paramref name="format"/> keeps exactly half of every window of 8 columns.</summary>
    public static bool Supports(SparseFormat format) =>
        format.Kind == SparseKind.NOfM && 2 * format.N == format.M && Window % format.M == 0;

    public int Kept => K / 2;

    public string Name => $"half_sparse_linear_k{K}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue x = b.PointerSlot(slots, 0), indices = b.PointerSlot(slots, 1), values = b.PointerSlot(slots, 2);
        LValue y = b.PointerSlot(slots, 3), m = b.Slot(slots, 4), n = b.Slot(slots, 5);
        var vf = t.Vector(t.F32, Window);
        var vi = t.Vector(t.I32, Window);
        var permute = module.Intrinsic("llvm.x86.avx2.permps", vf, vf, vi);
        var k = t.I64Const(K);
        int pairs = K / (2 * Window);
        var dense = b.StackArray(t.F32, k);
        b.For(begin, end, 1, row =>
        {
            var rowIndices = b.Gep(t.I8, indices, b.Mul(row, t.I64Const(Kept)));
            var rowValues = b.Gep(t.F32, values, b.Mul(row, t.I64Const(Kept)));
            LValue Column(LValue i) => b.Add(b.Mul(b.SDiv(i, t.I64Const(Window / 2)), t.I64Const(Window)), b.ZExt(b.Load(t.I8, b.Gep(t.I8, rowIndices, i)), t.I64));
            LValue Value(LValue i) => b.Load(t.F32, b.Gep(t.F32, rowValues, i), 4);
            b.If(b.IEqual(m, t.I64Const(1)), () =>
            {
                var acc = b.For(t.I64Const(0), t.I64Const(pairs), 1, [t.Zero(vf)], (p, a) =>
                {
                    var columns = b.Mul(p, t.I64Const(2 * Window));
                    var kept = b.Mul(p, t.I64Const(Window));
                    var lanesIndex = b.ZExt(b.Load(t.Vector(t.I8, Window), b.Gep(t.I8, rowIndices, kept)), vi);
                    var low = b.Call(permute, b.Load(vf, b.Gep(t.F32, x, columns), 4), lanesIndex);
                    var high = b.Call(permute, b.Load(vf, b.Gep(t.F32, x, b.Add(columns, t.I64Const(Window))), 4), lanesIndex);
                    var picked = b.Shuffle(low, high, [0, 1, 2, 3, 12, 13, 14, 15]);
                    return [b.Fma(picked, b.Load(vf, b.Gep(t.F32, rowValues, kept), 4), a[0], Window)];
                })[0];
                var sum = b.ReduceAdd(t.F32Const(-0.0f), acc, Window);
                sum = b.For(t.I64Const((long)pairs * Window), t.I64Const(Kept), 1, [sum], (i, a) =>
                    [b.Fma(b.Load(t.F32, b.Gep(t.F32, x, Column(i)), 4), Value(i), a[0])])[0];
                b.Store(sum, b.Gep(t.F32, y, row), 4);
            });
            b.If(b.ILess(t.I64Const(1), m), () =>
            {
                b.For(t.I64Const(0), k, 1, c => b.Store(t.F32Const(0f), b.Gep(t.F32, dense, c), 4));
                b.For(t.I64Const(0), t.I64Const(Kept), 1, i => b.Store(Value(i), b.Gep(t.F32, dense, Column(i)), 4));
                DotProduct.EveryToken(b, x, dense, m, n, row, y, K, lanes);
            });
        });
    });
}
