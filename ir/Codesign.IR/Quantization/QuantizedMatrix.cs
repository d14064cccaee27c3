using Codesign.IR.Diagnostics;
using Codesign.IR.Types;

namespace Codesign.IR.Quantization;

/// <summary>
/// A group-wise quantized matrix [Rows, Cols] with groups along Cols (K): one code per weight,
/// one scale (and for asymmetric schemes one zero-point code) per group. Weight = scale · (code − zero),
/// computed in f32; this is the semantics every backend reproduces.
/// </summary>
public sealed class QuantizedMatrix : IPackedMatrix
{
    public QuantizedMatrix(QuantScheme scheme, int rows, int cols, byte[] codes, float[] scales, byte[]? zeros)
    {
        Scheme = scheme;
        Rows = rows;
        Cols = cols;
        int groups = scheme.GroupCount(cols);
        if (codes.Length != (long)rows * cols || scales.Length != (long)rows * groups)
            throw new ArgumentException($"a [{rows}, {cols}] matrix with {groups} group(s) per row needs {(long)rows * cols} codes and {(long)rows * groups} scales");
        if (scheme.Symmetric != zeros is null || (zeros is not null && zeros.Length != scales.Length))
            throw new ArgumentException(scheme.Symmetric ? "symmetric schemes have no stored zero points" : "asymmetric schemes need one zero point per group");
        Codes = codes;
        Scales = scales;
        Zeros = zeros;
    }

    public QuantScheme Scheme { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int Groups => Scheme.GroupCount(Cols);
    public int GroupLength => Scheme.GroupLength(Cols);
    public byte[] Codes { get; }
    public float[] Scales { get; }
    public byte[]? Zeros { get; }

    private double[]? _centered;

    /// <summary>code − zero for every weight, as doubles (exact): the integers the group-wise kernels multiply.</summary>
    public double[] CenteredCodes()
    {
        if (_centered is not null) return _centered;
        var centered = new double[Codes.LongLength];
        int g = GroupLength;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++)
                centered[(long)r * Cols + c] = Codes[(long)r * Cols + c] - Zero(r, c / g);
        return _centered = centered;
    }

    public QuantizedLayout Layout => new(Scheme, Rows, Cols);

    public int Zero(int row, int group) => Zeros is null ? Scheme.ImplicitZero : Zeros[row * Groups + group];

    public float Scale(int row, int group) => Scales[row * Groups + group];

    public float[] ToDense()
    {
        var dense = new float[(long)Rows * Cols];
        Parallel.For(0, Rows, r => DequantizeRow(r, dense.AsSpan(r * Cols, Cols)));
        return dense;
    }

    public void DequantizeRow(int row, Span<float> dest)
    {
        int g = GroupLength;
        var codes = Codes.AsSpan(row * Cols, Cols);
        for (int c = 0; c < Cols; c++)
        {
            int group = c / g;
            dest[c] = Scale(row, group) * (codes[c] - Zero(row, group));
        }
    }

    public byte[] Pack()
    {
        var layout = Layout;
        var bytes = new byte[layout.TotalBytes];
        for (int r = 0; r < Rows; r++)
            BitPacking.Pack(Codes.AsSpan(r * Cols, Cols), Scheme.Bits, bytes.AsSpan(r * layout.RowCodeBytes, layout.RowCodeBytes));
        WriteGroupParameters(bytes, layout.ScalesOffset, layout.ZerosOffset);
        return bytes;
    }

    /// <summary>Writes the scale and zero-point sections (shared with the sparse layout, which stores the same groups).</summary>
    internal void WriteGroupParameters(Span<byte> bytes, long scalesOffset, long zerosOffset)
    {
        FloatStorage.Write(bytes[(int)scalesOffset..], Scales, Scheme.ScaleType);
        Zeros?.CopyTo(bytes[(int)zerosOffset..]);
    }

    /// <summary>Decodes packed bytes, checking the size and that every code and zero point is in range.</summary>
    public static QuantizedMatrix Unpack(QuantScheme scheme, int rows, int cols, ReadOnlySpan<byte> bytes)
    {
        var layout = new QuantizedLayout(scheme, rows, cols);
        if (bytes.Length != layout.TotalBytes)
            throw new CodesignException($"{DType.Quantized(scheme)} [{rows}, {cols}] takes {layout.TotalBytes} bytes, found {bytes.Length}");
        var codes = new byte[(long)rows * cols];
        for (int r = 0; r < rows; r++)
            BitPacking.Unpack(bytes.Slice(r * layout.RowCodeBytes, layout.RowCodeBytes), scheme.Bits, codes.AsSpan(r * cols, cols));
        var (scales, zeros) = ReadGroupParameters(scheme, rows, cols, bytes, layout.ScalesOffset, layout.ZerosOffset);
        CheckCodes(scheme, codes);
        return new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
    }

    internal static (float[] Scales, byte[]? Zeros) ReadGroupParameters(QuantScheme scheme, int rows, int cols, ReadOnlySpan<byte> bytes, long scalesOffset, long zerosOffset)
    {
        int groups = scheme.GroupCount(cols);
        var scales = new float[(long)rows * groups];
        FloatStorage.Read(bytes[(int)scalesOffset..], scales, scheme.ScaleType);
        foreach (float s in scales)
            if (!float.IsFinite(s)) throw new CodesignException($"{DType.Quantized(scheme)}: a scale is not finite ({s})");
        byte[]? zeros = null;
        if (!scheme.Symmetric)
        {
            zeros = bytes.Slice((int)zerosOffset, scales.Length).ToArray();
            CheckCodes(scheme, zeros);
        }
        return (scales, zeros);
    }

    internal static void CheckCodes(QuantScheme scheme, ReadOnlySpan<byte> codes)
    {
        int max = scheme.MaxCode;
        if (max == 255) return;
        int bad = codes.IndexOfAnyExceptInRange((byte)0, (byte)max);
        if (bad >= 0)
            throw new CodesignException($"{DType.Quantized(scheme)}: code {codes[bad]} at element {bad} is outside 0..{max}");
    }
}
