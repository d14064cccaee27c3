using Codesign.IR.Types;

namespace Codesign.IR.Quantization;

/// <summary>
/// Byte layout of a dense quantized matrix [Rows, Cols] (docs/weight-formats.md):
/// codes row by row, each row bit-packed LSB first and starting on a byte; then, 16-byte aligned, the
/// scales [Rows, Groups] in the scale dtype; then, 16-byte aligned and only for asymmetric schemes,
/// the zero points [Rows, Groups] one byte each.
/// </summary>
public sealed record QuantizedLayout(QuantScheme Scheme, int Rows, int Cols)
{
    public int Groups => Scheme.GroupCount(Cols);
    public int RowCodeBytes => BitPacking.ByteCount(Cols, Scheme.Bits);
    public long CodesBytes => (long)Rows * RowCodeBytes;
    public long ScalesOffset => BitPacking.Align(CodesBytes);
    public long ScalesBytes => (long)Rows * Groups * Scheme.ScaleType.ByteSize;
    public long ZerosOffset => BitPacking.Align(ScalesOffset + ScalesBytes);
    public long ZerosBytes => Scheme.Symmetric ? 0 : (long)Rows * Groups;
    public long TotalBytes => Scheme.Symmetric ? ScalesOffset + ScalesBytes : ZerosOffset + ZerosBytes;
}
