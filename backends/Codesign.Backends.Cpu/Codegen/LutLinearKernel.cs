using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// LUT-mpGEMM (T-MAC) over weights permuted into <see cref="LutGeometry"/>'s units and tables from
/// <see cref="LutTableSpec"/>, on x86 with AVX2: per unit one 256-bit load of 64 nibble indices, two byte
/// shuffles (vpshufb) into a run pair's 16-entry tables (expanded from the 8 stored by T[15 − i] = −T[i]), and two
/// vpmaddubsw that weight each plane pair by 2^p and widen to 16 bits. The integer sums are exact (widened to 32 bits
/// before they could overflow), so each group's S is the interpreter's; the f32 epilogue follows its order too.
/// Slots: tables, ts, Σx, permuted weights, scales (stored dtype) and zero points (u8, or 0 when the scheme implies
/// them), both [blocks, groups, 8], y, M, N. Work items: row blocks of 8, computed four at a time so a table register
/// serves 32 rows.
/// </summary>
public sealed record LutLinearSpec(LutGeometry Geometry, DTypeKind ScaleType, int? ImplicitZero) : IKernelSpec
{
    public const int TileBlocks = 4;
    public const string RequiredFeature = "avx2";

    public static LutLinearSpec For(QuantScheme scheme, int k) =>
        new(LutGeometry.For(scheme, k), scheme.ScaleType.Kind, scheme.Symmetric ? scheme.ImplicitZero : null);

    public string Name => $"lut_linear_k{Geometry.K}_g{Geometry.GroupLength}_p{Geometry.Planes}_{ScaleType.ToString().ToLowerInvariant()}_{(ImplicitZero is { } z ? $"s{z}" : "z")}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        var k = new Emitter(b, this, slots);
        var m = b.Slot(slots, 7);
        var tileEnd = b.Add(begin, b.Mul(b.SDiv(b.Sub(end, begin), t.I64Const(TileBlocks)), t.I64Const(TileBlocks)));
        b.For(begin, tileEnd, TileBlocks, block => b.For(t.I64Const(0), m, 1, token => k.Tile(block, token, TileBlocks)));
        b.For(tileEnd, end, 1, block => b.For(t.I64Const(0), m, 1, token => k.Tile(block, token, 1)));
    });

    private sealed class Emitter
    {
        private readonly IrBuilder _b;
        private readonly LlvmTypes _t;
        private readonly LutGeometry _geo;
        private readonly LutLinearSpec _spec;
        private readonly LValue _tables, _ts, _sums, _weights, _scales, _zeros, _y, _n;
        private readonly LType _bytes32, _bytes16, _shorts16, _ints8, _floats8;
        private readonly LValue _nibbleMask, _four, _lowMultipliers, _highMultipliers, _expandMask, _negatedHalf;

        public Emitter(IrBuilder b, LutLinearSpec spec, LValue slots)
        {
            var geo = spec.Geometry;
            (_b, _t, _geo, _spec) = (b, b.T, geo, spec);
            var t = _t;
            (_tables, _ts, _sums, _weights) = (b.PointerSlot(slots, 0), b.PointerSlot(slots, 1), b.PointerSlot(slots, 2), b.PointerSlot(slots, 3));
            (_scales, _zeros, _y, _n) = (b.PointerSlot(slots, 4), b.PointerSlot(slots, 5), b.PointerSlot(slots, 6), b.Slot(slots, 8));
            _bytes32 = t.Vector(t.I8, 32);
            _bytes16 = t.Vector(t.I8, 16);
            _shorts16 = t.Vector(t.I16, 16);
            _ints8 = t.Vector(t.I32, 8);
            _floats8 = t.Vector(t.F32, 8);
            _nibbleMask = t.ConstInts(t.I8, Enumerable.Repeat(15L, 32));
            _four = t.ConstInts(t.I8, Enumerable.Repeat(4L, 32));
            _lowMultipliers = Multipliers(geo.LowMultipliers);
            _highMultipliers = Multipliers(geo.HighMultipliers);
            // Bytes 0–7 of each half: stored entries 0–7; bytes 8–15: entries 7..0, negated below.
            int[] half(int run) => [.. Enumerable.Range(0, 8).Select(i => run * 8 + i), .. Enumerable.Range(0, 8).Select(i => run * 8 + 7 - i)];
            _expandMask = t.ConstInts(t.I32, [.. half(0), .. half(1)]);
            _negatedHalf = t.ConstInts(t.I1, Enumerable.Range(0, 32).Select(i => i % 16 >= 8 ? 1L : 0L));
        }

        private LValue Multipliers((int Even, int Odd) m) => _t.ConstInts(_t.I8, Enumerable.Range(0, 32).Select(i => (long)(i % 2 == 0 ? m.Even : m.Odd)));

        /// <summary>y rows [8·block, 8·(block + blocks)) of one token.</summary>
        public void Tile(LValue firstBlock, LValue token, int blocks)
        {
            var t = _t;
            var acc = Enumerable.Repeat(t.Zero(_floats8), blocks).ToArray();
            int fullGroups = _geo.UnitsInLastGroup == _geo.UnitsPerGroup ? _geo.Groups : _geo.Groups - 1;
            acc = _b.For(t.I64Const(0), t.I64Const(fullGroups), 1, acc, (q, a) => Group(firstBlock, token, q, _geo.UnitsPerGroup, a));
            if (fullGroups < _geo.Groups) acc = Group(firstBlock, token, t.I64Const(_geo.Groups - 1), _geo.UnitsInLastGroup, acc);
            for (int r = 0; r < blocks; r++) Store(_b.Add(firstBlock, t.I64Const(r)), token, acc[r]);
        }

        private LValue[] Group(LValue firstBlock, LValue token, LValue q, int units, LValue[] y)
        {
            var (b, t) = (_b, _t);
            int blocks = y.Length, perFlush = _geo.UnitsPerFlush(units);
            var tableBase = b.Gep(t.I8, _tables, b.Add(b.Mul(token, t.I64Const(_geo.TableBytesPerToken)), b.Mul(q, t.I64Const(_geo.GroupTableBytes))));
            var weightBase = Enumerable.Range(0, blocks).Select(r =>
                b.Gep(t.I8, _weights, b.Add(b.Mul(b.Add(firstBlock, t.I64Const(r)), t.I64Const(_geo.BlockBytes)), b.Mul(q, t.I64Const(_geo.GroupWeightBytes))))).ToArray();
            var sums = b.For(t.I64Const(0), t.I64Const(units / perFlush), 1, Enumerable.Repeat(t.Zero(_ints8), blocks).ToArray(), (chunk, wide) =>
            {
                var narrow = b.For(t.I64Const(0), t.I64Const(perFlush), 1, Enumerable.Repeat(t.Zero(_shorts16), blocks).ToArray(), (u, acc16) =>
                {
                    var unit = b.Add(b.Mul(chunk, t.I64Const(perFlush)), u);
                    var unitTables = b.Gep(t.I8, tableBase, b.Mul(unit, t.I64Const(_geo.UnitTableBytes)));
                    var low = Expand(unitTables);
                    var high = _geo.Planes == 4 ? low : Expand(b.Gep(t.I8, unitTables, t.I64Const(16)));
                    var next = new LValue[blocks];
                    for (int r = 0; r < blocks; r++)
                    {
                        var codes = b.Load(_bytes32, b.Gep(t.I8, weightBase[r], b.Mul(unit, t.I64Const(LutGeometry.UnitBytes))), 1);
                        var lowIndex = b.And(codes, _nibbleMask);
                        var highIndex = b.And(b.LShr(codes, _four), _nibbleMask);
                        var lowSum = MultiplyAdd(_lowMultipliers, Lookup(low, lowIndex));
                        var highSum = MultiplyAdd(_highMultipliers, Lookup(high, highIndex));
                        next[r] = b.Add(acc16[r], b.Add(lowSum, highSum));
                    }
                    return next;
                });
                return Enumerable.Range(0, blocks).Select(r => b.Add(wide[r], Widen(narrow[r]))).ToArray();
            });
            var slot = b.Add(b.Mul(token, t.I64Const(_geo.Groups)), q);
            var halfTs = b.Splat(b.FMul(t.F32Const(0.5f), b.Load(t.F32, b.Gep(t.F32, _ts, slot), 4)), 8);
            var sumX = b.Splat(b.Load(t.F32, b.Gep(t.F32, _sums, slot), 4), 8);
            var result = new LValue[blocks];
            for (int r = 0; r < blocks; r++)
            {
                var at = b.Mul(b.Add(b.Mul(b.Add(firstBlock, t.I64Const(r)), t.I64Const(_geo.Groups)), q), t.I64Const(LutGeometry.RowsPerBlock));
                var scale = Scales(at);
                var offset = Offsets(at);
                var s = b.SIToFP(sums[r], _floats8);
                result[r] = b.FAdd(y[r], b.FMul(scale, b.FAdd(b.FMul(halfTs, s), b.FMul(offset, sumX))));
            }
            return result;
        }

        /// <summary>Eight rows' scales widened exactly to f32 from their stored dtype.</summary>
        private LValue Scales(LValue at)
        {
            var (b, t) = (_b, _t);
            var shorts = t.Vector(t.I16, 8);
            return _spec.ScaleType switch
            {
                DTypeKind.F32 => b.Load(_floats8, b.Gep(t.F32, _scales, at), 4),
                DTypeKind.F16 => b.FPExt(b.Load(t.Vector(t.F16, 8), b.Gep(t.I16, _scales, at), 2), _floats8),
                DTypeKind.BF16 => b.BitCast(b.Shl(b.ZExt(b.Load(shorts, b.Gep(t.I16, _scales, at), 2), _ints8), t.ConstInts(t.I32, Enumerable.Repeat(16L, 8))), _floats8),
                var other => throw new InvalidOperationException($"scales are f32, f16 or bf16, not {other}"),
            };
        }

        /// <summary>(2^B − 1)/2 − zero for eight rows: a constant for symmetric schemes, else from the stored u8 zero points.</summary>
        private LValue Offsets(LValue at)
        {
            var (b, t) = (_b, _t);
            if (_spec.ImplicitZero is { } z) return b.Splat(t.F32Const(LutMpGemmKernel.Offset(_geo.Planes, z)), 8);
            var zeros = b.UIToFP(b.Load(t.Vector(t.I8, 8), b.Gep(t.I8, _zeros, at), 1), _floats8);
            return b.FSub(b.Splat(t.F32Const(LutMpGemmKernel.Offset(_geo.Planes, 0)), 8), zeros);
        }

        /// <summary>The 16 stored bytes of a run pair as two 16-entry tables, one per 128-bit half.</summary>
        private LValue Expand(LValue storedPair)
        {
            var (b, t) = (_b, _t);
            var stored = b.Load(_bytes16, storedPair, 1);
            var expanded = b.ShuffleWith(stored, t.Zero(_bytes16), _expandMask);
            return b.Select(_negatedHalf, b.Sub(t.Zero(_bytes32), expanded), expanded);
        }

        private LValue Lookup(LValue table, LValue index) => _b.Intrinsic("llvm.x86.avx2.pshuf.b", _bytes32, table, index);

        private LValue MultiplyAdd(LValue unsignedMultipliers, LValue signedBytes) =>
            _b.Intrinsic("llvm.x86.avx2.pmadd.ub.sw", _shorts16, unsignedMultipliers, signedBytes);

        /// <summary>16 lanes of (row, run parity) → 8 rows, in 32 bits.</summary>
        private LValue Widen(LValue shorts)
        {
            var wide = _b.SExt(shorts, _t.Vector(_t.I32, 16));
            return _b.Add(_b.Shuffle(wide, wide, [0, 1, 2, 3, 4, 5, 6, 7]), _b.Shuffle(wide, wide, [8, 9, 10, 11, 12, 13, 14, 15]));
        }

        private void Store(LValue block, LValue token, LValue rows)
        {
            var (b, t) = (_b, _t);
            var first = b.Mul(block, t.I64Const(LutGeometry.RowsPerBlock));
            var output = b.Gep(t.F32, _y, b.Add(b.Mul(token, _n), first));
            var whole = b.ILess(b.Add(first, t.I64Const(LutGeometry.RowsPerBlock - 1)), _n);
            b.IfElse(whole, () => b.Store(rows, output, 4), () =>
            {
                for (int lane = 0; lane < LutGeometry.RowsPerBlock; lane++)
                {
                    int l = lane;
                    b.If(b.ILess(b.Add(first, t.I64Const(l)), _n), () => b.Store(b.Extract(rows, l), b.Gep(t.F32, output, t.I64Const(l)), 4));
                }
            });
        }
    }
}
