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
