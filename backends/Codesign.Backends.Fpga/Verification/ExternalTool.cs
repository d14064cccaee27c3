using System.ComponentModel;
using System.Diagnostics;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>A tool the fpga backend runs (Verilator, Yosys, a built simulator) is not installed.</summary>
public sealed class ToolMissingException(string tool, string package)
    : CodesignException($"fpga backend: '{tool}' is not installed; run scripts/setup.sh or `apt-get install {package}`")
{
    public string Tool { get; } = tool;
}

/// <summary>Runs an external program with a time limit, feeding it standard input and collecting both output streams.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <param name="package">The Debian package that provides <paramref name="tool"/>, named when it is missing.</param>
    /// <param name="limitSetting">What sets <paramref name="limit"/>, named when the tool runs past it.</param>
    /// <param name="cancel">Kills the tool (and what it started) and throws <see cref="OperationCanceledException"/>.</param>
    public static Result Run(string tool, string package, IEnumerable<string> arguments, TimeSpan limit, string? workingDirectory = null, string? input = null,
        string? limitSetting = null, CancellationToken cancel = default)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CodesignException($"fpga backend: could not start '{tool}'");
        }
        catch (Win32Exception)
        {
            throw new ToolMissingException(tool, package);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            bool exited;
            using (cancel.Register(() => Kill(process)))
                exited = process.WaitForExit(limit);
            cancel.ThrowIfCancellationRequested();
            if (!exited)
            {
                process.Kill(entireProcessTree: true);
                throw new CodesignException($"fpga backend: '{tool} {string.Join(' ', start.ArgumentList)}' did not finish within {limit.TotalSeconds:F0} s{(limitSetting is null ? "" : $" ({limitSetting} sets the limit)")}");
            }
            return new Result(process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            // it exited meanwhile
        }
    }

    /// <summary>Whether <paramref name="tool"/> can be found on PATH.</summary>
    public static bool IsInstalled(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)));
}
