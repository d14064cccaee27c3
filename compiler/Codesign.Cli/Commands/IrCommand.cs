using System.CommandLine;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.Runtime.Compression;
using Codesign.IR.Text;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign ir MODEL [--recipe R]</c>: the graph in the text form, compressed by a recipe if given. Given a text-form file, parses, verifies and reprints it.</summary>
internal static class IrCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Argument<string>("model") { Description = "A checkpoint directory, or a file in Codesign's text IR form." };
        var recipe = new Option<string?>("--recipe") { Description = "Print the graph after compressing it with this recipe." };
        var command = new Command("ir", "Print a model's graph in Codesign's text IR form.") { model, recipe };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            if (File.Exists(path) && !GgufImporter.IsGgufFile(path))
            {
                output.Write(GraphPrinter.Print(GraphParser.Parse(File.ReadAllText(path))));
                return 0;
            }
            using var m = ModelLoader.Load(path);
            if (parse.GetValue(recipe) is { } r) RecipeRunner.Apply(m, r);
            output.Write(GraphPrinter.Print(m.Graph));
            return 0;
        });
        return command;
    }
}
