using Codesign.IR.Types;

namespace Codesign.IR.Semantics;

/// <summary>
/// A concrete tensor on the host: static shape, row-major, f32 data (activations and weights as the
/// interpreter sees them) or i32 data (token ids, positions).
/// </summary>
public sealed class HostTensor
{
    private HostTensor(int[] shape, DType dtype, ReadOnlyMemory<float> floats, int[]? ints)
    {
        Shape = shape;
        DType = dtype;
        Floats = floats;
        Ints = ints;
    }

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
