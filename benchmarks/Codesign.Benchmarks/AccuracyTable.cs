using System.Diagnostics;
using System.Globalization;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Recipes;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Evaluation;
using Codesign.Runtime.Interpreter;

/// <summary>Perplexity, change against f32, weight bytes and bits per weight for every recipe in a folder, as a markdown table.</summary>
internal static class AccuracyTable
{
    private static string Signed(double v) => (v >= 0 ? "+" : "") + v.ToString("F2", CultureInfo.InvariantCulture);

    public static void Run(string model, string recipes, IReadOnlyList<int> ids)
    {
        double f32;
        long f32Bytes;
        using (var m = ModelLoader.Load(model))
        {
            f32 = PerplexityEvaluator.Evaluate(new InterpreterSession(new ReferenceInterpreter(m.Graph, m.Weights)), ids, 256).Perplexity;
            f32Bytes = WeightFootprint.Of(m.Graph, m.Weights).TotalBytes;
        }
        Console.WriteLine($"| recipe | perplexity | change vs f32 | weight bytes | bits/weight (compressed layers) | compress time (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| f32 (reference) | {f32:F4} | — | {f32Bytes} | 32.000 | — |"));
        foreach (string path in Directory.GetFiles(recipes, "*.json").Order(StringComparer.Ordinal))
        {
            using var m = ModelLoader.Load(model);
            var clock = Stopwatch.StartNew();
            var store = RecipeRunner.Apply(m, path);
            double seconds = clock.Elapsed.TotalSeconds;
            double ppl = PerplexityEvaluator.Evaluate(new InterpreterSession(new ReferenceInterpreter(m.Graph, store)), ids, 256).Perplexity;
            var f = WeightFootprint.Of(m.Graph, store);
            string name = RecipeLoader.Load(path).Name ?? Path.GetFileNameWithoutExtension(path);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} (`{Path.GetFileName(path)}`) | {ppl:F4} | {Signed(100 * (ppl / f32 - 1))}% | {f.TotalBytes} | {f.CompressedBitsPerWeight:F3} | {seconds:F1} |"));
        }
    }
}
