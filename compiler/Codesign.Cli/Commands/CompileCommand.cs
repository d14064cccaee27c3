using System.CommandLine;
using System.Globalization;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.Compiler.Recipes;
using Codesign.IR.Diagnostics;
using Codesign.IR.Text;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary>
/// <c>codesign compile MODEL [--recipe R] -o OUT.gguf|OUT.cir</c>: compress and write the result, as GGUF
/// (llama.cpp's format) or as the text IR. The backend targets and the artifact directory come with the backends.
/// </summary>
internal static class CompileCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var recipe = new Option<string?>("--recipe") { Description = "Compression recipe (JSON)." };
        var outPath = new Option<string>("-o", "--output") { Description = "OUT.gguf (weights and tokenizer, llama.cpp's format) or OUT.cir (the graph as text).", Required = true };
        var fallback = new Option<bool>("--gguf-f32-fallback") { Description = "Write weights with no exact ggml type dequantized to F32 instead of failing." };
        var command = new Command("compile", "Compress a model with a recipe and write it.") { model, recipe, outPath, fallback };
        command.SetAction(parse =>
        {
            using var m = ModelLoader.Load(parse.GetValue(model)!);
            var store = parse.GetValue(recipe) is { } r ? RecipeRunner.Apply(m, r, line => output.WriteLine(line)) : new IR.Weights.LayeredWeightStore(m.Weights);
            string path = parse.GetValue(outPath)!;
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                GgufExporter.Export(m.Graph, store, path, GgufVocabularies.Of(m), parse.GetValue(fallback));
            else if (path.EndsWith(".cir", StringComparison.OrdinalIgnoreCase))
                File.WriteAllText(path, GraphPrinter.Print(m.Graph));
            else
                throw new CodesignException($"{path}: write OUT.gguf or OUT.cir (the artifact directory for --target comes with the backends)");
            var footprint = WeightFootprint.Of(m.Graph, store);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {path}: weights {footprint.TotalBytes} bytes, compressed layers at {footprint.CompressedBitsPerWeight:F3} bits/weight"));
            return 0;
        });
        return command;
    }
}
