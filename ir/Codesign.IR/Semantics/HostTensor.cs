using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Semantics;

/// <summary>
/// A concrete tensor on the host: static shape, row-major, f32 data (activations and weights as the
/// interpreter sees them), i32 data (token ids, positions), or a decoded packed weight (quantized or
/// sparse) whose dense f32 values are computed once, on first use.
/// </summary>
public sealed class HostTensor
{
    private readonly Lazy<float[]>? _dense;

    private HostTensor(int[] shape, DType dtype, ReadOnlyMemory<float> floats, int[]? ints, IPackedMatrix? packed = null)
    {
        Shape = shape;
        DType = dtype;
        Floats = floats;
        Ints = ints;
        Packed = packed;
        if (packed is not null) _dense = new Lazy<float[]>(packed.ToDense);
    }

    /// <summary>The decoded packed weight, for ops that compute on codes (group-wise accumulation, integer paths).</summary>
    public IPackedMatrix? Packed { get; }

    /// <summary>f32 values: the data of a float tensor, or the exact dequantized values of a packed weight.</summary>
    public ReadOnlyMemory<float> DenseFloats => _dense is not null ? _dense.Value : Floats;

    public static HostTensor PackedWeight(DType dtype, IPackedMatrix matrix) =>
        dtype.IsPacked ? new([matrix.Rows, matrix.Cols], dtype, ReadOnlyMemory<float>.Empty, null, matrix) : throw new ArgumentException($"{dtype} is not a packed dtype");

    public int[] Shape { get; }
    public DType DType { get; }
    public ReadOnlyMemory<float> Floats { get; }
    public int[]? Ints { get; }

    public long ElementCount => ShapeMath.Product(Shape);

    public static HostTensor F32(int[] shape, ReadOnlyMemory<float> data)
    {
        if (data.Length != ShapeMath.Product(shape))
            throw new ArgumentException($"f32 tensor of shape [{string.Join(", ", shape)}] needs {ShapeMath.Product(shape)} values, got {data.Length}");
        return new(shape, DType.F32, data, null);
    }

    public static HostTensor I32(int[] shape, int[] data)
    {
        if (data.Length != ShapeMath.Product(shape))
            throw new ArgumentException($"i32 tensor of shape [{string.Join(", ", shape)}] needs {ShapeMath.Product(shape)} values, got {data.Length}");
        return new(shape, DType.I32, ReadOnlyMemory<float>.Empty, data);
    }

    public ReadOnlySpan<float> Span => Floats.Span;

    public int[] RequireInts(string what) => Ints ?? throw new InvalidOperationException($"{what} must be an i32 tensor, found {DType}");

    public override string ToString() => $"[{string.Join(", ", Shape)}] {DType}";
}

public static class ShapeMath
{
    public static long Product(ReadOnlySpan<int> shape)
    {
        long p = 1;
        foreach (int d in shape) p = checked(p * d);
        return p;
    }

    /// <summary>Product of all dims but the last: the number of rows a row-wise op visits.</summary>
    public static int Rows(int[] shape) => (int)Product(shape.AsSpan(0, shape.Length - 1));
}
