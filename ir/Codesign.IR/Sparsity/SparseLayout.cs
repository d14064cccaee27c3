using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Sparsity;

/// <summary>Section offsets of a packed sparse matrix with <paramref name="storedValues"/> kept weights.</summary>
public sealed record SparseLayout(SparseStructure Structure, DType Element, long StoredValues)
{
    /// <summary>The layout of an N:M-sparse [rows, cols] matrix: exactly N of every M weights are kept, so the shape gives their count.</summary>
    public static SparseLayout NOfM(SparseFormat format, DType element, int rows, int cols) => format.Kind == SparseKind.NOfM
        ? new(new SparseStructure(format, rows, cols), element, (long)rows * (cols / format.M) * format.N)
        : throw new ArgumentException($"{format} is not an N:M pattern");

    public long StructureBytes => Structure.StructureBytes;
    public long ValuesOffset => BitPacking.Align(StructureBytes);
    public long ValuesBytes => Element.Scheme is { } s ? BitPacking.ByteCount(StoredValues, s.Bits) : StoredValues * Element.ByteSize;

    private QuantizedLayout? Groups => Element.Scheme is { } s ? new QuantizedLayout(s, Structure.Rows, Structure.Cols) : null;
    public long ScalesOffset => BitPacking.Align(ValuesOffset + ValuesBytes);
    public long ZerosOffset => BitPacking.Align(ScalesOffset + (Groups?.ScalesBytes ?? 0));

    public long TotalBytes => Groups switch
    {
        null => ValuesOffset + ValuesBytes,
        { Scheme.Symmetric: true } g => ScalesOffset + g.ScalesBytes,
        var g => ZerosOffset + g.ZerosBytes,
    };
}
