using System.CommandLine;
using Codesign.Compiler.Frontends;
using Spectre.Console;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign inspect MODEL</c>: architecture, parameter count, dtypes, op counts.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var command = new Command("inspect", "Print what a model is: architecture, parameters, dtypes, op counts.") { model };
        command.SetAction(parse =>
        {
            using var m = ModelLoader.Load(parse.GetValue(model)!);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            Render(m, console);
            return 0;
        });
        return command;
    }

    private static void Render(ImportedModel m, IAnsiConsole console)
    {
        var g = m.Graph;
        var arch = new Table().Title($"model @{g.Name}").AddColumn("property").AddColumn("value");
        foreach (var (key, value) in g.Attributes)
            arch.AddRow(key, Markup.Escape(IR.Ops.AttributeValues.Format(value)));
        long parameters = g.Weights.Sum(w => w.Type.ElementCount().Known);
        arch.AddRow("parameters", $"{parameters:N0}");
        arch.AddRow("source", Markup.Escape(m.Source));
        console.Write(arch);

        var dtypes = new Table().Title("weights by dtype").AddColumn("dtype").AddColumn("tensors").AddColumn("parameters").AddColumn("bytes");
        foreach (var group in g.Weights.GroupBy(w => w.Type.DType).OrderBy(x => x.Key.Name, StringComparer.Ordinal))
        {
            long count = group.Sum(w => w.Type.ElementCount().Known);
            dtypes.AddRow(Markup.Escape(group.Key.Name), group.Count().ToString(), $"{count:N0}", $"{count * group.Key.ByteSize:N0}");
        }
        console.Write(dtypes);

        var ops = new Table().Title("ops").AddColumn("op").AddColumn("count");
        foreach (var group in g.Nodes.GroupBy(n => n.Op.Mnemonic).OrderBy(x => x.Key, StringComparer.Ordinal))
            ops.AddRow(group.Key, group.Count().ToString());
        ops.AddRow("inputs", Markup.Escape(string.Join(", ", g.Inputs.Select(v => $"%{v.Name}: {v.Type}"))));
        ops.AddRow("outputs", Markup.Escape(string.Join(", ", g.Outputs.Select(v => $"%{v.Name}: {v.Type}"))));
        console.Write(ops);
    }
}
