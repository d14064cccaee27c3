using Spectre.Console;

namespace Codesign.Cli.Commands;

/// <summary>Spectre.Console writing tables to a command's output as plain text (no ANSI codes, no colours), as tests and pipes want.</summary>
internal static class PlainConsole
{
    public static IAnsiConsole Create(TextWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
}
