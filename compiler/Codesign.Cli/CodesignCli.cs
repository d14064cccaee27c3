using System.CommandLine;
using Codesign.Cli.Commands;
using Codesign.IR.Diagnostics;

namespace Codesign.Cli;

/// <summary>The <c>codesign</c> command tree. Errors of ours print as one line naming what is wrong; exit code 1.</summary>
public static class CodesignCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Codesign: compile compressed transformer language models for FPGA, CPU and GPU, and run them.")
        {
            InspectCommand.Create(output),
            RunCommand.Create(output),
            EvalCommand.Create(output),
            IrCommand.Create(output),
            CompileCommand.Create(output),
            SimCommand.Create(output),
            BenchCommand.Create(output),
            ServeCommand.Create(output),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CodesignException or ArgumentException or IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
