using System.CommandLine;
using Codesign.Compiler.Frontends;
using Codesign.IR.Text;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign ir MODEL</c>: the graph in the text form. Given a text-form file, parses, verifies and reprints it.</summary>
internal static class IrCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Argument<string>("model") { Description = "A checkpoint directory, or a file in Codesign's text IR form." };
        var command = new Command("ir", "Print a model's graph in Codesign's text IR form.") { model };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            if (File.Exists(path))
            {
                output.Write(GraphPrinter.Print(GraphParser.Parse(File.ReadAllText(path))));
                return 0;
            }
            using var m = ModelLoader.Load(path);
            output.Write(GraphPrinter.Print(m.Graph));
            return 0;
        });
        return command;
    }
}
