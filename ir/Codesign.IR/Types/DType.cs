namespace Codesign.IR.Types;

public enum DTypeKind { F32, F16, BF16, I8, I32, I64, Quantized, Sparse }

/// <summary>
/// Element type of a tensor. Quantized types carry their <see cref="QuantScheme"/>; sparse types carry
/// their <see cref="SparseFormat"/> and the type of the stored (non-zero) elements, itself float or quantized.
/// </summary>
public sealed record DType
{
    public DTypeKind Kind { get; }
    public QuantScheme? Scheme { get; }
    public SparseFormat? Sparsity { get; }
    public DType? Element { get; }
    /// <summary>The scheme of the codes a weight stores: its own when quantized, its kept elements' when sparse over a quantized element.</summary>
    public QuantScheme? CodeScheme => Scheme ?? Element?.Scheme;

    private DType(DTypeKind kind, QuantScheme? scheme, SparseFormat? sparsity = null, DType? element = null)
    {
        Kind = kind;
        Scheme = scheme;
        Sparsity = sparsity;
        Element = element;
    }

    public static readonly DType F32 = new(DTypeKind.F32, null);
    public static readonly DType F16 = new(DTypeKind.F16, null);
    public static readonly DType BF16 = new(DTypeKind.BF16, null);
    public static readonly DType I8 = new(DTypeKind.I8, null);
    public static readonly DType I32 = new(DTypeKind.I32, null);
    public static readonly DType I64 = new(DTypeKind.I64, null);

    public static DType Quantized(QuantScheme scheme)
    {
        scheme.Validate();
        return new DType(DTypeKind.Quantized, scheme);
    }

    /// <summary>Sparse weights whose stored elements are <paramref name="element"/> (f32, f16, bf16 or quantized).</summary>
    public static DType Sparse(SparseFormat format, DType element)
    {
        format.Validate();
        if (!(element.IsFloat || element.Kind == DTypeKind.Quantized))
            throw new ArgumentException($"sparse weights store float or quantized elements, not {element}");
        return new DType(DTypeKind.Sparse, null, format, element);
    }

    /// <summary>Packed weight storage (quantized or sparse): read through its codec, not element by element.</summary>
    public bool IsPacked => Kind is DTypeKind.Quantized or DTypeKind.Sparse;

    public bool IsFloat => Kind is DTypeKind.F32 or DTypeKind.F16 or DTypeKind.BF16;
    public bool IsInteger => Kind is DTypeKind.I8 or DTypeKind.I32 or DTypeKind.I64;

    /// <summary>Bytes per element for plain types; quantized types have no whole-byte size.</summary>
    public int ByteSize => Kind switch
    {
        DTypeKind.F32 or DTypeKind.I32 => 4,
        DTypeKind.F16 or DTypeKind.BF16 => 2,
        DTypeKind.I8 => 1,
        DTypeKind.I64 => 8,
        _ => throw new InvalidOperationException($"{Name} has no whole-byte element size"),
    };

    public string Name => Kind switch
    {
        DTypeKind.F32 => "f32",
        DTypeKind.F16 => "f16",
        DTypeKind.BF16 => "bf16",
        DTypeKind.I8 => "i8",
        DTypeKind.I32 => "i32",
        DTypeKind.I64 => "i64",
        DTypeKind.Sparse => $"sparse<{Sparsity!.ToToken()}, {Element!.Name}>",
        _ => Scheme!.ToString(),
    };

    /// <summary>Parses a plain dtype name; quantized types are parsed from their tokens.</summary>
    public static DType Parse(string name) => name switch
    {
        "f32" => F32,
        "f16" => F16,
        "bf16" => BF16,
        "i8" => I8,
        "i32" => I32,
        "i64" => I64,
        _ => throw new ArgumentException($"unknown dtype '{name}'"),
    };

    public override string ToString() => Name;
}
