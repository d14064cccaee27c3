using System.Globalization;
using Codesign.IR.Diagnostics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// Attribute values an op may carry: <see cref="long"/>, <see cref="double"/>, <see cref="string"/>,
/// <see cref="bool"/>, or a list of dims (<see cref="Dim"/>[]; also used for integer lists).
/// </summary>
public static class AttributeValues
{
    public static bool IsSupported(object value) => value is long or double or string or bool or Dim[];

    public static string Format(object value) => value switch
    {
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        string s => Quote(s),
        bool b => b ? "true" : "false",
        Dim[] dims => $"[{string.Join(", ", dims)}]",
        _ => throw new ArgumentException($"unsupported attribute value {value.GetType().Name}"),
    };

    /// <summary>Shortest text that parses back to the same double, always with '.' or an exponent.</summary>
    public static string FormatDouble(double d)
    {
        if (!double.IsFinite(d))
            throw new ArgumentException($"attribute value {d} is not finite");
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    public static string Quote(string s)
    {
        var b = new System.Text.StringBuilder("\"");
        foreach (char c in s)
        {
            b.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return b.Append('"').ToString();
    }
}

/// <summary>Named attributes of one node, read by an op's factory with typed accessors that name what is missing.</summary>
public sealed class AttributeSet
{
    private readonly Dictionary<string, object> _values;
    private readonly string _op;

    public AttributeSet(string op, IEnumerable<KeyValuePair<string, object>> values)
    {
        _op = op;
        _values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in values)
        {
            if (!_values.TryAdd(k, v))
                throw new VerificationException($"{op}: attribute '{k}' given twice");
        }
    }

    public long Int(string name) => Get<long>(name, "an integer");
    public long Int(string name, long fallback) => _values.ContainsKey(name) ? Int(name) : fallback;
    public double Float(string name) => _values.TryGetValue(name, out var v) && v is long l ? l : Get<double>(name, "a number");
    public string String(string name) => Get<string>(name, "a string");
    public string String(string name, string fallback) => _values.ContainsKey(name) ? String(name) : fallback;
    public Dim[] Dims(string name) => Get<Dim[]>(name, "a list");

    public void RejectUnknown(params string[] known)
    {
        foreach (var k in _values.Keys)
        {
            if (Array.IndexOf(known, k) < 0)
                throw new VerificationException($"{_op}: unknown attribute '{k}' (expected {string.Join(", ", known)})");
        }
    }

    private T Get<T>(string name, string what)
    {
        if (!_values.TryGetValue(name, out var v))
            throw new VerificationException($"{_op}: missing attribute '{name}'");
        return v is T t ? t : throw new VerificationException($"{_op}: attribute '{name}' must be {what}, found {AttributeValues.Format(v)}");
    }
}
