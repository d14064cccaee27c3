namespace Codesign.IR.Types;

/// <summary>A tensor dimension: a known size, or a symbol (e.g. <c>seq</c>) bound when the graph runs.</summary>
public readonly record struct Dim
{
    public long Size { get; }
    public string? Symbol { get; }

    private Dim(long size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    public static Dim Of(long size) => size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size), size, "dimension sizes are not negative");
    public static Dim Sym(string symbol) => new(-1, symbol);

    public bool IsSymbolic => Symbol is not null;

    public static implicit operator Dim(long size) => Of(size);
    public static implicit operator Dim(string symbol) => Sym(symbol);

    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
