using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// tensor.transpose: output axis a is input axis Perm[a]. Specialised on the permutation; the input's dimensions
/// come at run time (they may be symbolic). Slots: x, y, then the input's dimensions d0 … d(rank−1). Work items:
/// output rows (all output axes but the last); each row is a strided gather along input axis Perm[^1].
/// </summary>
public sealed record TransposeSpec(IReadOnlyList<int> Perm) : IKernelSpec
{
    public string Name => $"transpose_{string.Join("_", Perm)}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        int rank = Perm.Count;
        LValue x = b.PointerSlot(slots, 0), y = b.PointerSlot(slots, 1);
        var dims = Enumerable.Range(0, rank).Select(i => b.Slot(slots, 2 + i)).ToArray();
        // Row-major strides of the input, innermost last.
        var strides = new LValue[rank];
        strides[rank - 1] = t.I64Const(1);
        for (int i = rank - 2; i >= 0; i--) strides[i] = b.Mul(strides[i + 1], dims[i + 1]);
        var rowLength = dims[Perm[rank - 1]];
        var step = strides[Perm[rank - 1]];
        b.For(begin, end, 1, row =>
        {
            // Output coordinates of this row, last output axis excluded, innermost first.
            var rest = row;
            var offset = t.I64Const(0);
            for (int a = rank - 2; a >= 0; a--)
            {
                var size = dims[Perm[a]];
                offset = b.Add(offset, b.Mul(b.SRem(rest, size), strides[Perm[a]]));
                rest = b.SDiv(rest, size);
            }
            var outRow = b.Gep(t.F32, y, b.Mul(row, rowLength));
            b.For(t.I64Const(0), rowLength, 1, j =>
                b.Store(b.Load(t.F32, b.Gep(t.F32, x, b.Add(offset, b.Mul(j, step))), 4), b.Gep(t.F32, outRow, j), 4));
        });
    });
}
