using Codesign.IR.Types;

namespace Codesign.Compiler.Frontends.Safetensors;

/// <summary>The dtype names of the safetensors format and their element sizes.</summary>
public static class SafetensorsDType
{
    private static readonly Dictionary<string, int> Sizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2,
        ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    public static bool TryGetSize(string name, out int size) => Sizes.TryGetValue(name, out size);

    /// <summary>The IR dtype for a safetensors dtype, or null where the IR has none.</summary>
    public static DType? ToDType(string name) => name switch
    {
        "F32" => DType.F32,
        "F16" => DType.F16,
        "BF16" => DType.BF16,
        "I8" => DType.I8,
        "I32" => DType.I32,
        "I64" => DType.I64,
        _ => null,
    };

    public static string FromDType(DType dtype) => dtype.Kind switch
    {
        DTypeKind.F32 => "F32",
        DTypeKind.F16 => "F16",
        DTypeKind.BF16 => "BF16",
        DTypeKind.I8 => "I8",
        DTypeKind.I32 => "I32",
        DTypeKind.I64 => "I64",
        _ => throw new ArgumentException($"safetensors cannot store {dtype}"),
    };
}
