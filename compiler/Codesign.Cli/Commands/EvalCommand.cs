using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;
using Codesign.IR.Weights;
using Codesign.Runtime.Compression;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Evaluation;
using Codesign.Runtime.Generation;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign eval MODEL|ARTIFACT --ids FILE.safetensors:TENSOR | --text FILE [--window 256]</c>: perplexity.</summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var ids = new Option<string?>("--ids") { Description = "Token ids to score: FILE.safetensors:TENSOR (an integer tensor)." };
        var text = new Option<string?>("--text") { Description = "A text file to tokenize (BOS first) and score." };
        var window = new Option<int>("--window") { Description = "Tokens per non-overlapping window; each scores tokens 1..W-1.", DefaultValueFactory = _ => 256 };
        var recipe = new Option<string?>("--recipe") { Description = "Compress with this recipe (JSON) first, in memory; report the change against f32 and the weight footprint." };
        var device = ModelArguments.Device();
        var placement = ModelArguments.Placement();
        var threads = ModelArguments.Threads();
        var lut = ModelArguments.Lut();
        var command = new Command("eval", "Compute perplexity over token ids or a text file.") { model, ids, text, window, recipe, device, placement, threads, lut };
        command.SetAction(parse =>
        {
            string? idsSpec = parse.GetValue(ids), textPath = parse.GetValue(text);
            if ((idsSpec is null) == (textPath is null))
                throw new CodesignException("give exactly one of --ids FILE.safetensors:TENSOR or --text FILE");
            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            var tokens = idsSpec is not null ? ReadIds(idsSpec) : source.Tokenizer().EncodePrompt(ReadText(textPath!));
            int w = parse.GetValue(window);
            ICausalLmSession Open(IWeightStore? weights) => source.Session(parse.GetValue(device), parse.GetValue(placement), weights, parse.GetValue(threads), parse.GetValue(lut));
            if (parse.GetValue(recipe) is not { } recipePath)
            {
                var result = Evaluate(Open(null), tokens, w, output);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"perplexity: {result.Perplexity:F4}"));
                return 0;
            }
            var m = source.RequireModel("--recipe");
            var f32Session = Open(m.Weights);
            PerplexityResult baseline;
            using (f32Session as IDisposable)
                baseline = PerplexityEvaluator.Evaluate(f32Session, tokens, w);
            var f32 = WeightFootprint.Of(m.Graph, m.Weights);
            var clock = Stopwatch.StartNew();
            var store = RecipeRunner.Apply(m, recipePath);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recipe: {recipePath} applied in {clock.Elapsed.TotalSeconds:F2} s"));
            var compressed = Evaluate(Open(store), tokens, w, output);
            var footprint = WeightFootprint.Of(m.Graph, store);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"perplexity: {compressed.Perplexity:F4} (f32 {baseline.Perplexity:F4}, change {Signed(100 * (compressed.Perplexity / baseline.Perplexity - 1))}%)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"weights: {footprint.TotalBytes} bytes (f32 {f32.TotalBytes}), linear layers {footprint.LinearBytes} bytes at {footprint.LinearBitsPerWeight:F3} bits/weight, compressed layers at {footprint.CompressedBitsPerWeight:F3} bits/weight"));
            return 0;
        });
        return command;
    }

    private static PerplexityResult Evaluate(ICausalLmSession session, IReadOnlyList<int> tokens, int window, TextWriter output)
    {
        using var owner = session as IDisposable;
        var clock = Stopwatch.StartNew();
        var result = PerplexityEvaluator.Evaluate(session, tokens, window);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tokens: {tokens.Count}, windows: {result.Windows}, scored: {result.ScoredTokens}, mean nll: {result.MeanNll:F6}, time: {clock.Elapsed.TotalSeconds:F2} s"));
        return result;
    }

    private static string Signed(double v) => (v >= 0 ? "+" : "") + v.ToString("F2", CultureInfo.InvariantCulture);

    private static string ReadText(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new CodesignException($"{path}: no such text file");

    /// <summary>Reads FILE.safetensors:TENSOR as token ids (I64 or I32).</summary>
    internal static IReadOnlyList<int> ReadIds(string spec)
    {
        int colon = spec.LastIndexOf(':');
        if (colon <= 0 || colon == spec.Length - 1)
            throw new CodesignException($"--ids '{spec}': expected FILE.safetensors:TENSOR");
        string path = spec[..colon], name = spec[(colon + 1)..];
        using var file = SafetensorsFile.Open(path);
        var entry = file.Entry(name);
        return entry.DType switch
        {
            "I64" => file.ReadInt64(name).Select(v => v is >= 0 and <= int.MaxValue
                ? (int)v
                : throw new ModelFormatException(path, $"token id {v} is out of range", name)).ToArray(),
            "I32" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(file.Bytes(name).Span).ToArray(),
            _ => throw new ModelFormatException(path, $"token ids must be I64 or I32, found {entry.DType}", name),
        };
    }
}
