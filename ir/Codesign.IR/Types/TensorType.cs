namespace Codesign.IR.Types;

/// <summary>Shape (known or symbolic dims) and element type of a value.</summary>
public sealed class TensorType : IEquatable<TensorType>
{
    private readonly Dim[] _shape;

    public TensorType(IEnumerable<Dim> shape, DType dtype)
    {
        _shape = shape.ToArray();
        DType = dtype;
    }

    public IReadOnlyList<Dim> Shape => _shape;
    public DType DType { get; }
    public int Rank => _shape.Length;

    public Dim this[int axis] => _shape[axis < 0 ? _shape.Length + axis : axis];

    public static TensorType Of(DType dtype, params Dim[] shape) => new(shape, dtype);

    public TensorType WithShape(IEnumerable<Dim> shape) => new(shape, DType);
    public TensorType WithDType(DType dtype) => new(_shape, dtype);

    public bool IsStatic => _shape.All(d => !d.IsSymbolic);

    /// <summary>Product of the known dims, and the symbols that multiply it, sorted.</summary>
    public (long Known, string[] Symbols) ElementCount()
    {
        long known = 1;
        var symbols = new List<string>();
        foreach (var d in _shape)
        {
            if (d.IsSymbolic) symbols.Add(d.Symbol!);
            else known = checked(known * d.Size);
        }
        symbols.Sort(StringComparer.Ordinal);
        return (known, symbols.ToArray());
    }

    public bool Equals(TensorType? other) =>
        other is not null && DType == other.DType && _shape.AsSpan().SequenceEqual(other._shape);

    public override bool Equals(object? obj) => Equals(obj as TensorType);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(DType);
        foreach (var d in _shape) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => $"tensor<[{string.Join(", ", _shape)}], {DType.Name}>";
}
