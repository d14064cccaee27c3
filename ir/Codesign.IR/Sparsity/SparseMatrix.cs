using System.Numerics;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Sparsity;

/// <summary>
/// A pruned weight matrix [Rows, Cols]: which weights are kept (the mask, shaped by <see cref="Format"/>)
/// and their values, either floats of the element dtype or codes of a quantized scheme whose groups run
/// along the dense K axis (sparse + quantized, as FlightLLM and SpQR store them).
/// Storage (docs/weight-formats.md): the structure section, then 16-byte aligned the kept values in
/// stored order (<see cref="StoredPositions"/>), then for quantized elements the scales and zero points.
/// </summary>
public sealed class SparseMatrix : IPackedMatrix
{
    private SparseMatrix(SparseFormat format, DType element, int rows, int cols, bool[] kept, float[]? values, QuantizedMatrix? quantized)
    {
        Format = format;
        Element = element;
        Rows = rows;
        Cols = cols;
        Kept = kept;
        _values = values;
        Quantized = quantized;
    }

    private readonly float[]? _values;

    public SparseFormat Format { get; }
    public DType Element { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Row-major mask: true where the weight is stored.</summary>
    public bool[] Kept { get; }
    /// <summary>For quantized elements: the codes (pruned positions hold the zero code), scales and zeros.</summary>
    public QuantizedMatrix? Quantized { get; }

    public DType DType => DType.Sparse(Format, Element);
    public long NonZeros => Kept.LongCount(k => k);

    /// <summary>Float elements: <paramref name="dense"/> holds values already rounded to <paramref name="element"/>; pruned ones are ignored.</summary>
    public static SparseMatrix FromDense(SparseFormat format, DType element, int rows, int cols, bool[] kept, float[] dense)
    {
        if (!element.IsFloat) throw new ArgumentException($"{element} is not a float element type");
        CheckShape(format, rows, cols, kept, dense.Length);
        var values = new float[dense.Length];
        for (int i = 0; i < values.Length; i++) values[i] = kept[i] ? FloatStorage.Round(dense[i], element) : 0f;
        return new SparseMatrix(format, element, rows, cols, kept, values, null);
    }

    /// <summary>Quantized elements: pruned positions of <paramref name="quantized"/> are reset to the zero code.</summary>
    public static SparseMatrix FromQuantized(SparseFormat format, bool[] kept, QuantizedMatrix quantized)
    {
        CheckShape(format, quantized.Rows, quantized.Cols, kept, quantized.Codes.Length);
        int g = quantized.GroupLength;
        for (int r = 0; r < quantized.Rows; r++)
            for (int c = 0; c < quantized.Cols; c++)
                if (!kept[r * quantized.Cols + c]) quantized.Codes[r * quantized.Cols + c] = (byte)quantized.Zero(r, c / g);
        return new SparseMatrix(format, DType.Quantized(quantized.Scheme), quantized.Rows, quantized.Cols, kept, null, quantized);
    }

    public float[] ToDense() => Quantized is not null ? Quantized.ToDense() : (float[])_values!.Clone();

    private static void CheckShape(SparseFormat format, int rows, int cols, bool[] kept, long values)
    {
        if (kept.Length != (long)rows * cols || values != kept.Length)
            throw new ArgumentException($"a [{rows}, {cols}] sparse matrix needs {(long)rows * cols} mask entries and values");
        new SparseStructure(format, rows, cols).CheckMask(kept);
    }

    /// <summary>Row-major indices of the stored weights in the order their values are stored.</summary>
    public IEnumerable<long> StoredPositions() => new SparseStructure(Format, Rows, Cols).StoredPositions(Kept);

    public byte[] Pack()
    {
        var structure = new SparseStructure(Format, Rows, Cols);
        var positions = StoredPositions().ToArray();
        var layout = new SparseLayout(structure, Element, positions.LongLength);
        var bytes = new byte[layout.TotalBytes];
        structure.WriteStructure(Kept, bytes.AsSpan(0, (int)layout.StructureBytes));
        var values = bytes.AsSpan((int)layout.ValuesOffset);
        if (Quantized is { } q)
        {
            for (long i = 0; i < positions.LongLength; i++) BitPacking.Write(values, i, q.Scheme.Bits, q.Codes[positions[i]]);
            q.WriteGroupParameters(bytes, layout.ScalesOffset, layout.ZerosOffset);
        }
        else
        {
            var stored = new float[positions.Length];
            for (int i = 0; i < stored.Length; i++) stored[i] = _values![positions[i]];
            FloatStorage.Write(values, stored, Element);
        }
        return bytes;
    }

    /// <summary>Decodes packed bytes, checking the structure, the size and every code.</summary>
    public static SparseMatrix Unpack(SparseFormat format, DType element, int rows, int cols, ReadOnlySpan<byte> bytes)
    {
        var dtype = DType.Sparse(format, element);
        var structure = new SparseStructure(format, rows, cols);
        if (bytes.Length < structure.StructureBytes)
            throw new CodesignException($"{dtype} [{rows}, {cols}]: {bytes.Length} bytes cannot hold the {structure.StructureBytes}-byte structure");
        var kept = structure.ReadStructure(bytes[..(int)structure.StructureBytes]);
        var positions = structure.StoredPositions(kept).ToArray();
        var layout = new SparseLayout(structure, element, positions.LongLength);
        if (bytes.Length != layout.TotalBytes)
            throw new CodesignException($"{dtype} [{rows}, {cols}] with {positions.Length} kept weights takes {layout.TotalBytes} bytes, found {bytes.Length}");
        var values = bytes[(int)layout.ValuesOffset..];
        if (element.Scheme is { } scheme)
        {
            var (scales, zeros) = QuantizedMatrix.ReadGroupParameters(scheme, rows, cols, bytes, layout.ScalesOffset, layout.ZerosOffset);
            var q = new QuantizedMatrix(scheme, rows, cols, new byte[(long)rows * cols], scales, zeros);
            var storedCodes = new byte[positions.Length];
            for (int i = 0; i < positions.Length; i++) storedCodes[i] = (byte)BitPacking.Read(values, i, scheme.Bits);
            QuantizedMatrix.CheckCodes(scheme, storedCodes);
            for (int i = 0; i < positions.Length; i++) q.Codes[positions[i]] = storedCodes[i];
            return FromQuantized(format, kept, q);
        }
        var stored = new float[positions.Length];
        FloatStorage.Read(values, stored, element);
        var dense = new float[(long)rows * cols];
        for (int i = 0; i < positions.Length; i++) dense[positions[i]] = stored[i];
        return new SparseMatrix(format, element, rows, cols, kept, dense, null);
    }

    internal static int PopCount(ReadOnlySpan<byte> bits)
    {
        int n = 0;
        foreach (byte b in bits) n += BitOperations.PopCount(b);
        return n;
    }
}
