using System.Text.RegularExpressions;

namespace Codesign.Compiler.Recipes;

/// <summary>Glob matching of layer names (<c>*</c>: any characters, <c>?</c>: one character), whole name.</summary>
public static class LayerPattern
{
    public static bool Matches(string pattern, string layer) =>
        Regex.IsMatch(layer, "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>A layer's name: its weight key without the trailing ".weight".</summary>
    public static string LayerName(string weightKey) =>
        weightKey.EndsWith(".weight", StringComparison.Ordinal) ? weightKey[..^".weight".Length] : weightKey;
}
