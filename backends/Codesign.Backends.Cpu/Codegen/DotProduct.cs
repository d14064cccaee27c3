using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// Σ x[i]·w[i] over a compile-time length: four vector accumulators (independent FMA chains), a one-vector
/// loop for the rest of the vector part, the accumulators added pairwise and their lanes in order, then the
/// scalar tail. Callers supply how to load x and w as vectors and as scalars (w may be decoded on the fly).
/// </summary>
internal sealed class DotProduct
{
    private const int Unroll = 4;

    public required Func<LValue, LValue> XVector { get; init; }
    public required Func<LValue, LValue> WVector { get; init; }
    public required Func<LValue, LValue> XScalar { get; init; }
    public required Func<LValue, LValue> WScalar { get; init; }

    /// <param name="vectorEnd">Elements [0, vectorEnd) go through vectors (a multiple of lanes); the rest are scalar.</param>
    public LValue Emit(IrBuilder b, int lanes, long length, long vectorEnd)
    {
        var t = b.T;
        var vt = t.Vector(t.F32, lanes);
        long unrolledEnd = vectorEnd - vectorEnd % (Unroll * lanes);
        var accs = Enumerable.Range(0, Unroll).Select(_ => t.Zero(vt)).ToArray();
        if (unrolledEnd > 0)
        {
            accs = b.For(t.I64Const(0), t.I64Const(unrolledEnd), Unroll * lanes, accs, (i, a) =>
                a.Select((acc, u) =>
                {
                    var at = b.Add(i, t.I64Const(u * lanes));
                    return b.Fma(XVector(at), WVector(at), acc, lanes);
                }).ToArray());
        }
        var acc0 = accs[0];
        if (vectorEnd > unrolledEnd)
            acc0 = b.For(t.I64Const(unrolledEnd), t.I64Const(vectorEnd), lanes, [acc0], (i, a) => [b.Fma(XVector(i), WVector(i), a[0], lanes)])[0];
        var sum = b.FAdd(b.FAdd(acc0, accs[1]), b.FAdd(accs[2], accs[3]));
        var s = b.ReduceAdd(t.F32Const(-0.0f), sum, lanes);
        if (length > vectorEnd)
            s = b.For(t.I64Const(vectorEnd), t.I64Const(length), 1, [s], (i, a) => [b.Fma(XScalar(i), WScalar(i), a[0])])[0];
        return s;
    }

    /// <summary>Tokens whose dots share each weight load in <see cref="EveryToken"/>.</summary>
    public const int TokenBlock = 4;

    /// <summary>
    /// y[r, column] = x[r, :] · w for every token r &lt; m (x is [m, k], y is [m, n]): tokens in blocks of
    /// <see cref="TokenBlock"/> share each load of w (one chain per token, so four independent FMA chains and 1.25
    /// loads per FMA instead of 2); the remaining tokens take the single-token dot, which decode (m = 1) also uses.
    /// </summary>
    public static void EveryToken(IrBuilder b, LValue x, LValue w, LValue m, LValue n, LValue column, LValue y, int k, int lanes)
    {
        var t = b.T;
        var vt = t.Vector(t.F32, lanes);
        long vectorEnd = k - k % lanes;
        var kk = t.I64Const(k);
        var blocked = b.Sub(m, b.SRem(m, t.I64Const(TokenBlock)));
        b.For(t.I64Const(0), blocked, TokenBlock, first =>
        {
            var rows = Enumerable.Range(0, TokenBlock).Select(i => b.Gep(t.F32, x, b.Mul(b.Add(first, t.I64Const(i)), kk))).ToArray();
            var accs = Enumerable.Range(0, TokenBlock).Select(_ => t.Zero(vt)).ToArray();
            if (vectorEnd > 0)
                accs = b.For(t.I64Const(0), t.I64Const(vectorEnd), lanes, accs, (i, a) =>
                {
                    var wv = b.Load(vt, b.Gep(t.F32, w, i), 4);
                    return rows.Select((row, r) => b.Fma(b.Load(vt, b.Gep(t.F32, row, i), 4), wv, a[r], lanes)).ToArray();
                });
            var sums = accs.Select(acc => b.ReduceAdd(t.F32Const(-0.0f), acc, lanes)).ToArray();
            if (k > vectorEnd)
                sums = b.For(t.I64Const(vectorEnd), kk, 1, sums, (i, a) =>
                {
                    var wv = b.Load(t.F32, b.Gep(t.F32, w, i), 4);
                    return rows.Select((row, r) => b.Fma(b.Load(t.F32, b.Gep(t.F32, row, i), 4), wv, a[r])).ToArray();
                });
            for (int r = 0; r < TokenBlock; r++)
                b.Store(sums[r], b.Gep(t.F32, y, b.Add(b.Mul(b.Add(first, t.I64Const(r)), n), column)), 4);
        });
        b.For(blocked, m, 1, r =>
        {
            var dot = OfFloats(b, b.Gep(t.F32, x, b.Mul(r, kk)), w, lanes).Emit(b, lanes, k, vectorEnd);
            b.Store(dot, b.Gep(t.F32, y, b.Add(b.Mul(r, n), column)), 4);
        });
    }

    /// <summary>A dot product of two f32 arrays.</summary>
    public static DotProduct OfFloats(IrBuilder b, LValue x, LValue w, int lanes)
    {
        var t = b.T;
        var vt = t.Vector(t.F32, lanes);
        return new DotProduct
        {
            XVector = i => b.Load(vt, b.Gep(t.F32, x, i), 4),
            WVector = i => b.Load(vt, b.Gep(t.F32, w, i), 4),
            XScalar = i => b.Load(t.F32, b.Gep(t.F32, x, i), 4),
            WScalar = i => b.Load(t.F32, b.Gep(t.F32, w, i), 4),
        };
    }
}
