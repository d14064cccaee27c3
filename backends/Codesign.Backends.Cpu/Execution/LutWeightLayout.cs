using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// Permutes a quantized weight, once at load, into the units <see cref="LutLinearSpec"/> reads (layout in
/// <see cref="LutGeometry"/>), with scales (in their stored dtype, so no wider than the packed tensor's) and zero
/// points regrouped per block, group and row. Rows past N (the last block's padding) get zero codes and scales, so
/// they compute 0 and are never stored.
/// </summary>
internal static class LutWeightLayout
{
    public static int RowGroupEntries(int rows, LutGeometry geo) => LutGeometry.RowBlocks(rows) * geo.Groups * LutGeometry.RowsPerBlock;

    /// <param name="zeros">One byte per row and group for asymmetric schemes; empty for symmetric ones.</param>
    public static void Build(QuantizedMatrix w, LutGeometry geo, byte[] units, byte[] scales, byte[] zeros)
    {
        int blocks = LutGeometry.RowBlocks(w.Rows), entries = RowGroupEntries(w.Rows, geo);
        var scaleType = w.Scheme.ScaleType;
        if (units.Length != blocks * geo.BlockBytes || scales.Length != entries * scaleType.ByteSize || zeros.Length != (w.Scheme.Symmetric ? 0 : entries))
            throw new ArgumentException("buffers do not match the layout's sizes");
        var regrouped = new float[entries];
        for (int block = 0; block < blocks; block++)
            for (int q = 0; q < geo.Groups; q++)
                for (int lane = 0; lane < LutGeometry.RowsPerBlock; lane++)
                {
                    int row = block * LutGeometry.RowsPerBlock + lane, at = (block * geo.Groups + q) * LutGeometry.RowsPerBlock + lane;
                    bool real = row < w.Rows;
                    regrouped[at] = real ? w.Scale(row, q) : 0f;
                    if (zeros.Length > 0) zeros[at] = real ? (byte)w.Zero(row, q) : (byte)0;
                }
        FloatStorage.Write(scales, regrouped, scaleType);
        Parallel.For(0, blocks, block => FillBlock(w, geo, block, units.AsSpan((int)(block * geo.BlockBytes), (int)geo.BlockBytes)));
    }

    private static void FillBlock(QuantizedMatrix w, LutGeometry geo, int block, Span<byte> dest)
    {
        for (int q = 0; q < geo.Groups; q++)
        {
            int start = q * geo.GroupLength, length = q == geo.Groups - 1 ? geo.LastGroupLength : geo.GroupLength;
            int unitCount = q == geo.Groups - 1 ? geo.UnitsInLastGroup : geo.UnitsPerGroup;
            var groupUnits = dest.Slice((int)(q * geo.GroupWeightBytes), unitCount * LutGeometry.UnitBytes);
            for (int u = 0; u < unitCount; u++)
                for (int b = 0; b < LutGeometry.UnitBytes; b++)
                {
                    int half = b >> 4, row = block * LutGeometry.RowsPerBlock + ((b & 15) >> 1), member = b & 1;
                    var (lowRun, lowPlane, highRun, highPlane) = geo.Planes == 4
                        ? (2 * u + half, member, 2 * u + half, member + 2)
                        : (4 * u + half, member, 4 * u + 2 + half, member);
                    groupUnits[u * LutGeometry.UnitBytes + b] = (byte)(Index(w, row, start, length, lowRun, lowPlane) | Index(w, row, start, length, highRun, highPlane) << 4);
                }
        }
    }

    private static int Index(QuantizedMatrix w, int row, int start, int length, int run, int plane) =>
        row >= w.Rows ? 0 : LutMpGemmKernel.Index(w.Codes.AsSpan(row * w.Cols + start, length), run, plane);
}
