using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Sparsity;

/// <summary>Section offsets of a packed sparse matrix with <paramref name="storedValues"/> kept weights.</summary>
public sealed record SparseLayout(SparseStructure Structure, DType Element, long StoredValues)
{
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
