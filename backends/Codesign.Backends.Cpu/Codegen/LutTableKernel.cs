using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Semantics;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// Precomputes LUT-mpGEMM activation tables, as their own operator so every row block shares them
/// (<see cref="LutMpGemmKernel"/> defines the values, <see cref="LutGeometry"/> the layout). Slots: x [M, K],
/// tables (int8, per token <see cref="LutGeometry.TableBytesPerToken"/>), ts (f32 [M, groups]), Σx (f32 [M, groups]).
/// Work items: (token, group) pairs. A run's 8 stored entries are computed 8 lanes wide with the interpreter's
/// addition order (±x is exact, so lane j's sum rounds as the scalar one does).
/// </summary>
public sealed record LutTableSpec(LutGeometry Geometry) : IKernelSpec
{
    public string Name => $"lut_tables_k{Geometry.K}_g{Geometry.GroupLength}_p{Geometry.Planes}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        var geo = Geometry;
        LValue x = b.PointerSlot(slots, 0), tables = b.PointerSlot(slots, 1), tsOut = b.PointerSlot(slots, 2), sumOut = b.PointerSlot(slots, 3);
        var groups = t.I64Const(geo.Groups);
        var v8 = t.Vector(t.F32, LutMpGemmKernel.StoredEntries);
        // Lane i holds entry i: sign of x_j is + when bit j of i is set (bit 3 is clear for the stored half).
        var signs = Enumerable.Range(0, LutMpGemmKernel.RunLength)
            .Select(j => t.ConstVector(Enumerable.Range(0, 8).Select(i => t.F32Const((i >> j & 1) != 0 ? 1f : -1f)).ToArray())).ToArray();
        b.For(begin, end, 1, item =>
        {
            var token = b.SDiv(item, groups);
            var q = b.SRem(item, groups);
            var last = b.IEqual(q, t.I64Const(geo.Groups - 1));
            var length = b.Select(last, t.I64Const(geo.LastGroupLength), t.I64Const(geo.GroupLength));
            var runs = b.Select(last, t.I64Const(geo.RunsInLastGroup), t.I64Const(geo.RunsPerGroup));
            var row = b.Gep(t.F32, x, b.Add(b.Mul(token, t.I64Const(geo.K)), b.Mul(q, t.I64Const(geo.GroupLength))));
            LValue Activation(LValue run, int j)
            {
                var c = b.Add(b.Mul(run, t.I64Const(LutMpGemmKernel.RunLength)), t.I64Const(j));
                var inside = b.ILess(c, length);
                var safe = b.Select(inside, c, t.I64Const(0));
                return b.Select(inside, b.Load(t.F32, b.Gep(t.F32, row, safe), 4), t.F32Const(0f));
            }
            var sum = b.For(t.I64Const(0), length, 1, [t.F32Const(0f)], (c, acc) => [b.FAdd(acc[0], b.Load(t.F32, b.Gep(t.F32, row, c), 4))])[0];
            var max = b.For(t.I64Const(0), runs, 1, [t.F32Const(0f)], (r, acc) =>
            {
                var a = b.FAdd(b.FAdd(b.FAdd(b.UnaryF32("fabs", Activation(r, 0)), b.UnaryF32("fabs", Activation(r, 1))), b.UnaryF32("fabs", Activation(r, 2))), b.UnaryF32("fabs", Activation(r, 3)));
                return [b.MaxF32(acc[0], a)];
            })[0];
            var ts = b.FDiv(max, t.F32Const(LutMpGemmKernel.TableMax));
            var slot = b.Add(b.Mul(token, groups), q);
            b.Store(ts, b.Gep(t.F32, tsOut, slot), 4);
            b.Store(sum, b.Gep(t.F32, sumOut, slot), 4);
            var groupTables = b.Gep(t.I8, tables, b.Add(b.Mul(token, t.I64Const(geo.TableBytesPerToken)), b.Mul(q, t.I64Const(geo.GroupTableBytes))));
            var tsVector = b.Splat(ts, 8);
            var zeroTs = b.Splat(b.FCmpEqual(ts, t.F32Const(0f)), 8);
            var limit = (float)LutMpGemmKernel.TableMax;
            b.For(t.I64Const(0), runs, 1, r =>
            {
                var entries = b.FMul(b.Splat(Activation(r, 0), 8), signs[0]);
                for (int j = 1; j < LutMpGemmKernel.RunLength; j++) entries = b.FAdd(entries, b.FMul(b.Splat(Activation(r, j), 8), signs[j]));
                var scaled = b.Intrinsic("llvm.roundeven.v8f32", v8, b.FDiv(entries, tsVector));
                var clamped = b.Intrinsic("llvm.minnum.v8f32", v8, b.Intrinsic("llvm.maxnum.v8f32", v8, scaled, b.Splat(t.F32Const(-limit), 8)), b.Splat(t.F32Const(limit), 8));
                var codes = b.Select(zeroTs, t.Zero(t.Vector(t.I8, 8)), b.FPToSI(clamped, t.Vector(t.I8, 8)));
                b.Store(codes, b.Gep(t.I8, groupTables, b.Mul(r, t.I64Const(LutMpGemmKernel.StoredEntries))), 1);
            });
        });
    });
}
