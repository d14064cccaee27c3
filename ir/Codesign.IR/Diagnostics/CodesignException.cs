namespace Codesign.IR.Diagnostics;

/// <summary>Base of every error Codesign raises on purpose: bad input, unsupported model, failed verification.</summary>
public class CodesignException : Exception
{
    public CodesignException(string message) : base(message) { }
    public CodesignException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A graph breaks a rule of the IR: types, shapes, SSA or acyclicity. Names the node or value.</summary>
public sealed class VerificationException : CodesignException
{
    public VerificationException(string message) : base(message) { }
}

/// <summary>The text form could not be parsed; carries the 1-based line and column.</summary>
public sealed class IrParseException : CodesignException
{
    public int Line { get; }
    public int Column { get; }

    public IrParseException(int line, int column, string message)
        : base($"line {line}:{column}: {message}")
    {
        Line = line;
        Column = column;
    }
}
