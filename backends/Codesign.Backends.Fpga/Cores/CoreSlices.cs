using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// A packed weight's rows as the matrix cores store them: core c's slice (<see cref="MatrixCoreRules.Rows"/>) as a
/// matrix of its own in the IR's layout (docs/weight-formats.md) — its rows' codes (and N:M offsets), scales and zero
/// points, sections 16-byte aligned — so a core streams it exactly as it would a whole matrix.
/// </summary>
public static class CoreSlices
{
    /// <summary>Bytes of a [rows, k] matrix of <paramref name="type"/> (quantized, or N:M-sparse quantized).</summary>
    public static long Bytes(DType type, int rows, int k) => type.Sparsity is { } s
        ? SparseLayout.NOfM(s, type.Element!, rows, k).TotalBytes
        : new QuantizedLayout(type.Scheme ?? throw new CodesignException($"fpga: {type} weights on the matrix cores"), rows, k).TotalBytes;

    /// <summary>The packed [n, k] <paramref name="packed"/> striped over <paramref name="cores"/> cores: each core that holds rows and its slice.</summary>
    public static IEnumerable<(int Core, byte[] Data)> Striped(DType type, int n, int k, ReadOnlyMemory<byte> packed, int cores)
    {
        for (int c = 0; c < cores; c++)
        {
            var (first, count) = MatrixCoreRules.Rows(n, cores, c);
            if (count > 0) yield return (c, Slice(type, n, k, packed.Span, first, count));
        }
    }

    /// <summary>Rows <paramref name="first"/>.. of the packed [n, k] <paramref name="packed"/>, as a [count, k] matrix.</summary>
    public static byte[] Slice(DType type, int n, int k, ReadOnlySpan<byte> packed, int first, int count)
    {
        if (first < 0 || count < 0 || first + count > n) throw new ArgumentOutOfRangeException(nameof(count), $"rows {first}..{first + count} of {n}");
        var slice = new byte[Bytes(type, count, k)];
        if (type.Sparsity is { } sparsity)
        {
            var whole = SparseLayout.NOfM(sparsity, type.Element!, n, k);
            var part = SparseLayout.NOfM(sparsity, type.Element!, count, k);
            long structureRow = whole.StructureBytes / n, valueBits = (long)k / sparsity.M * sparsity.N * type.Element!.Scheme!.Bits;
            if (valueBits % 8 != 0) throw new CodesignException($"fpga: {type} rows of {valueBits} bits of kept codes are not whole bytes");
            Copy(packed, first * structureRow, slice, 0, count * structureRow);
            Copy(packed, whole.ValuesOffset + first * valueBits / 8, slice, part.ValuesOffset, count * valueBits / 8);
            Grid(type.Element!.Scheme!, n, count, k, first, packed, whole.ScalesOffset, whole.ZerosOffset, slice, part.ScalesOffset, part.ZerosOffset);
        }
        else
        {
            var scheme = type.Scheme!;
            var whole = new QuantizedLayout(scheme, n, k);
            var part = new QuantizedLayout(scheme, count, k);
            Copy(packed, (long)first * whole.RowCodeBytes, slice, 0, (long)count * whole.RowCodeBytes);
            Grid(scheme, n, count, k, first, packed, whole.ScalesOffset, whole.ZerosOffset, slice, part.ScalesOffset, part.ZerosOffset);
        }
        return slice;
    }

    /// <summary>The rows' scales and (asymmetric) zero points of the [n, groups] grid.</summary>
    private static void Grid(QuantScheme scheme, int n, int count, int k, int first, ReadOnlySpan<byte> packed, long scales, long zeros, byte[] slice, long sliceScales, long sliceZeros)
    {
        long rowScales = (long)scheme.GroupCount(k) * scheme.ScaleType.ByteSize, rowZeros = scheme.GroupCount(k);
        Copy(packed, scales + first * rowScales, slice, sliceScales, count * rowScales);
        if (!scheme.Symmetric) Copy(packed, zeros + first * rowZeros, slice, sliceZeros, count * rowZeros);
    }

    private static void Copy(ReadOnlySpan<byte> from, long at, byte[] to, long toAt, long bytes) =>
        from.Slice(checked((int)at), checked((int)bytes)).CopyTo(to.AsSpan(checked((int)toAt), checked((int)bytes)));
}
