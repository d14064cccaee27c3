using Codesign.IR.Diagnostics;

namespace Codesign.Compiler.Frontends;

/// <summary>A model file or directory is malformed or unsupported. Names the file and, where it applies, the tensor or field.</summary>
public sealed class ModelFormatException : CodesignException
{
    public ModelFormatException(string file, string message, string? tensor = null, Exception? inner = null)
        : base(Compose(file, tensor, message), inner ?? new InvalidDataException(message))
    {
        File = file;
        Tensor = tensor;
    }

    public string File { get; }
    public string? Tensor { get; }

    private static string Compose(string file, string? tensor, string message) =>
        tensor is null ? $"{file}: {message}" : $"{file}: tensor '{tensor}': {message}";
}
