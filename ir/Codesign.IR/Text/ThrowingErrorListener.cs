using Antlr4.Runtime;
using Codesign.IR.Diagnostics;

namespace Codesign.IR.Text;

/// <summary>Turns the first ANTLR syntax error into an <see cref="IrParseException"/> with line and column.</summary>
internal sealed class ThrowingErrorListener : BaseErrorListener, IAntlrErrorListener<int>
{
    public static readonly ThrowingErrorListener Instance = new();

    public override void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e) =>
        throw new IrParseException(line, charPositionInLine + 1, msg);

    public void SyntaxError(TextWriter output, IRecognizer recognizer, int offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e) =>
        throw new IrParseException(line, charPositionInLine + 1, msg);
}
