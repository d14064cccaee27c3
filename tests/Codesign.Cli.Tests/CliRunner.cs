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

    public static string LastLine(string text) => text.TrimEnd().Split('\n')[^1].Trim();

    public static string Prompt(int i) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "reference.json"))).RootElement.GetProperty("prompts")[i].GetString()!;

    public static long[] Reference(string tensor)
    {
        using var f = SafetensorsFile.Open(TestPaths.TinyLlamaReference);
        return f.ReadInt64(tensor);
    }
}
