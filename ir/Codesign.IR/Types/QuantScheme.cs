namespace Codesign.IR.Types;

/// <summary>How the integers of a quantized weight are laid out in bytes.</summary>
public enum QuantPacking
{
    /// <summary>Values packed little-endian, first element in the least significant bits.</summary>
    LsbFirst,
}

/// <summary>
/// A quantized weight format as data: integer width (or ternary), group size along K
/// (0 = one group per output channel), symmetric or with zero point, and the dtype of the scales.
/// One record describes every scheme; there is no class per format.
/// </summary>
public sealed record QuantScheme(int Bits, int GroupSize, bool Symmetric, DType ScaleType, QuantPacking Packing = QuantPacking.LsbFirst, bool Ternary = false)
{
    public static QuantScheme Create(int bits, int groupSize, bool symmetric, DType scaleType, QuantPacking packing = QuantPacking.LsbFirst, bool ternary = false)
    {
        var scheme = new QuantScheme(bits, groupSize, symmetric, scaleType, packing, ternary);
        scheme.Validate();
        return scheme;
    }

    public void Validate()
    {
        if (Ternary && (Bits != 2 || !Symmetric))
            throw new ArgumentException("a ternary scheme is symmetric and stores each weight in 2 bits");
        if (Bits is < 1 or > 8)
            throw new ArgumentException($"quantized weights take 1 to 8 bits, not {Bits}");
        if (GroupSize < 0)
            throw new ArgumentException($"group size must be positive or 0 (per channel), not {GroupSize}");
        if (ScaleType != DType.F32 && ScaleType != DType.F16 && ScaleType != DType.BF16)
            throw new ArgumentException($"scales are f32, f16 or bf16, not {ScaleType}");
    }

    /// <summary>Largest stored code: codes run 0..MaxCode (ternary uses 0, 1, 2 for -1, 0, +1).</summary>
    public int MaxCode => Ternary ? 2 : (1 << Bits) - 1;

    /// <summary>The code that means zero when it is implied by the scheme (symmetric and ternary); asymmetric schemes store one per group.</summary>
    public int ImplicitZero => Ternary ? 1 : Symmetric ? 1 << (Bits - 1) : throw new InvalidOperationException("an asymmetric scheme stores its zero points");

    /// <summary>Weights per group for a row of <paramref name="k"/> (per-channel: the whole row).</summary>
    public int GroupLength(int k) => GroupSize == 0 ? Math.Max(k, 1) : GroupSize;

    /// <summary>Groups per row of <paramref name="k"/> weights; the last one may be short.</summary>
    public int GroupCount(int k) => (k + GroupLength(k) - 1) / GroupLength(k);

    /// <summary>Text form tokens, e.g. <c>int4, g128, sym, f16, lsb</c>.</summary>
    public IEnumerable<string> ToTokens()
    {
        yield return Ternary ? "ternary" : $"int{Bits}";
        yield return GroupSize == 0 ? "channel" : $"g{GroupSize}";
        yield return Symmetric ? "sym" : "asym";
        yield return ScaleType.Name;
        yield return Packing switch { QuantPacking.LsbFirst => "lsb", _ => throw new InvalidOperationException() };
    }

    public override string ToString() => $"quant<{string.Join(", ", ToTokens())}>";

    public static QuantScheme FromTokens(IReadOnlyList<string> tokens)
    {
        if (tokens.Count != 5)
            throw new ArgumentException("a quant type has five parts: width, group, sym|asym, scale dtype, packing");
        bool ternary = tokens[0] == "ternary";
        int bits = ternary ? 2 : ParseSuffix(tokens[0], "int");
        int group = tokens[1] == "channel" ? 0 : ParseSuffix(tokens[1], "g");
        bool symmetric = tokens[2] switch
        {
            "sym" => true,
            "asym" => false,
            var t => throw new ArgumentException($"expected sym or asym, found '{t}'"),
        };
        var scale = DType.Parse(tokens[3]);
        var packing = tokens[4] switch
        {
            "lsb" => QuantPacking.LsbFirst,
            var t => throw new ArgumentException($"unknown packing '{t}'"),
        };
        return Create(bits, group, symmetric, scale, packing, ternary);
    }

    private static int ParseSuffix(string token, string prefix)
    {
        if (token.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(token.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v))
            return v;
        throw new ArgumentException($"expected '{prefix}N', found '{token}'");
    }
}
