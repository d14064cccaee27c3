using System.Diagnostics;
using System.Text.Json;
using Codesign.Cli;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.Testing;

namespace Codesign.Cli.Tests;

/// <summary>Runs the CLI in-process and reads the fixture's prompts and reference outputs.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CodesignCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs the CLI in a process of its own (codesign.dll beside the tests) with extra environment variables.</summary>
    public static (int Exit, string Out, string Err) RunInNewProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "codesign.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"codesign {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    public static string LastLine(string text) => text.TrimEnd().Split('\n')[^1].Trim();

    public static string Prompt(int i) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "reference.json"))).RootElement.GetProperty("prompts")[i].GetString()!;

    public static long[] Reference(string tensor)
    {
        using var f = SafetensorsFile.Open(TestPaths.TinyLlamaReference);
        return f.ReadInt64(tensor);
    }
}
