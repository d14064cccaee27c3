using Codesign.IR.Diagnostics;

namespace Codesign.Compiler.Recipes;

/// <summary>A recipe that cannot be read or applied; names the file and the field.</summary>
public sealed class RecipeException(string file, string message) : CodesignException($"{file}: {message}")
{
    public string File { get; } = file;
}
