using System.Globalization;
using System.Text.RegularExpressions;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.IR.Text;
using Codesign.Testing;
using static Codesign.Cli.Tests.CliRunner;

namespace Codesign.Cli.Tests;

/// <summary>eval/ir/compile with recipes, and GGUF files used as models, as the README shows them.</summary>
public partial class CompressionCliTests : ScratchDirectoryTest
{
    [GeneratedRegex(@"perplexity: (?<ppl>[\d.]+) \(f32 (?<f32>[\d.]+), change (?<change>[+-][\d.]+)%\)")]
    private static partial Regex PerplexityLine();

    [GeneratedRegex(@"compressed layers at (?<bits>[\d.]+) bits/weight")]
    private static partial Regex FootprintLine();

    [Test]
    public void Eval_with_a_recipe_reports_perplexity_its_change_against_f32_and_the_footprint()
    {
        var (exit, output, err) = Run("eval", TestPaths.TinyLlama, "--ids", TestPaths.TinyLlamaReference + ":eval.ids", "--recipe", TestPaths.ExampleRecipe("w4g128-rtn"));
        Assert.That(exit, Is.Zero, err);
        var ppl = PerplexityLine().Match(output);
        Assert.That(ppl.Success, output);
        double Value(string group) => double.Parse(ppl.Groups[group].Value, CultureInfo.InvariantCulture);
        Assert.That(Math.Abs(Value("f32") / 38.63226004919436 - 1), Is.LessThan(1e-3));
        Assert.That(Value("change"), Is.InRange(0.1, 5.0), "W4 g128 RTN costs a little perplexity");
        Assert.That(Math.Abs(Value("ppl") / Value("f32") - 1 - Value("change") / 100), Is.LessThan(1e-3));
        var bits = FootprintLine().Match(output);
        Assert.That(bits.Success, output);
        // 4-bit codes plus an f16 scale and 4-bit zero per 128 weights (lm_head stays f32 in this recipe).
        Assert.That(double.Parse(bits.Groups["bits"].Value, CultureInfo.InvariantCulture), Is.InRange(4.1, 4.3));
    }

    [Test]
    public void Eval_on_the_cpu_with_lut_lowering_costs_almost_no_perplexity_over_the_dequantizing_kernels()
    {
        double Perplexity(string lut)
        {
            var (exit, output, err) = Run("eval", TestPaths.TinyLlama, "--ids", TestPaths.TinyLlamaReference + ":eval.ids", "--window", "128",
                "--recipe", TestPaths.ExampleRecipe("w2g32-rtn"), "--device", "cpu", "--threads", "2", "--lut", lut);
            Assert.That(exit, Is.Zero, err);
            var ppl = PerplexityLine().Match(output);
            Assert.That(ppl.Success, output);
            return double.Parse(ppl.Groups["ppl"].Value, CultureInfo.InvariantCulture);
        }
        double exact = Perplexity("never"), lut = Perplexity("always");
        // int8 activation tables add about one table step of error per lookup: a small fraction of W2's own loss.
        Assert.That(lut / exact - 1, Is.InRange(-2e-3, 2e-3), $"never {exact}, always {lut}");
        Assert.That(lut, Is.Not.EqualTo(exact), "the LUT path must actually run");
    }

    [Test]
    public void Ir_with_a_recipe_prints_quantized_ops_that_parse_back()
    {
        var (exit, output, err) = Run("ir", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("sparse24-wanda-w4g128-gptq"));
        Assert.That(exit, Is.Zero, err);
        string graph = output[output.IndexOf("graph @", StringComparison.Ordinal)..];
        Assert.That(graph, Does.Contain("sparse.spmatmul").And.Contain("sparse<nm_2_4, quant<int4, g128"));
        Assert.That(GraphPrinter.Print(GraphParser.Parse(graph)), Is.EqualTo(graph));
    }

    [Test]
    public void Compile_to_cir_writes_the_compressed_graph_as_text()
    {
        string path = Path.Combine(Scratch, "w8.cir");
        var (exit, output, err) = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("w8-rtn"), "-o", path);
        Assert.That(exit, Is.Zero, err);
        Assert.That(LastLine(output), Does.StartWith($"wrote {path}"));
        string text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("quant.qmatmul"));
        Assert.That(Run("ir", path).Out, Is.EqualTo(text));
    }

    [Test]
    public void A_model_compiled_to_gguf_runs_from_that_file_alone_with_its_own_vocabulary()
    {
        string path = Path.Combine(Scratch, "f32.gguf");
        var compile = Run("compile", TestPaths.TinyLlama, "-o", path);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        // Only the .gguf: no tokenizer.model or config.json beside it.
        Assert.That(Directory.GetFiles(Scratch).Select(Path.GetFileName), Is.EqualTo(new[] { "f32.gguf" }));

        var (exit, output, err) = Run("run", path, "--prompt", Prompt(0), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids");
        Assert.That(exit, Is.Zero, err);
        Assert.That(LastLine(output), Is.EqualTo(string.Join(' ', Reference("prompt0.greedy"))));

        var text = Run("run", path, "--prompt", Prompt(0), "--max-tokens", "8", "--greedy", "--ignore-eos");
        var fromCheckpoint = Run("run", TestPaths.TinyLlama, "--prompt", Prompt(0), "--max-tokens", "8", "--greedy", "--ignore-eos");
        Assert.That(text.Exit, Is.Zero, text.Err);
        Assert.That(text.Out, Is.EqualTo(fromCheckpoint.Out));
    }

    [Test]
    public void A_gguf_compiled_with_a_recipe_keeps_its_ggml_types_and_can_be_recompiled()
    {
        string q4 = Path.Combine(Scratch, "q4.gguf"), again = Path.Combine(Scratch, "again.gguf");
        var compile = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("gguf-q4_0"), "-o", q4);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(LastLine(compile.Out), Does.Contain("bits/weight"));
        var recompile = Run("compile", q4, "-o", again);
        Assert.That(recompile.Exit, Is.Zero, recompile.Err);
        using (var a = GgufFile.Open(q4))
        using (var b = GgufFile.Open(again))
        {
            Assert.That(b.Tensor("blk.1.attn_q.weight").Type, Is.EqualTo(GgmlType.Q4_0));
            Assert.That(b.Bytes(b.Tensor("blk.1.attn_q.weight")).ToArray(), Is.EqualTo(a.Bytes(a.Tensor("blk.1.attn_q.weight")).ToArray()));
            Assert.That(b.Metadata["tokenizer.ggml.tokens"], Is.EqualTo(a.Metadata["tokenizer.ggml.tokens"]));
        }
        var eval = Run("eval", q4, "--text", Path.Combine(TestPaths.TinyLlama, "calibration.txt"), "--window", "128");
        Assert.That(eval.Exit, Is.Zero, eval.Err);
        Assert.That(LastLine(eval.Out), Does.StartWith("perplexity: "));
    }

    [Test]
    public void Compile_refuses_an_unknown_output_kind_and_a_scheme_gguf_cannot_hold()
    {
        var kind = Run("compile", TestPaths.TinyLlama, "-o", Path.Combine(Scratch, "model.bin"));
        Assert.That(kind.Exit, Is.EqualTo(1));
        Assert.That(kind.Err, Does.Contain("OUT.gguf or OUT.cir"));
        var scheme = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("w4g128-rtn"), "-o", Path.Combine(Scratch, "w4.gguf"));
        Assert.That(scheme.Exit, Is.EqualTo(1));
        Assert.That(scheme.Err, Does.StartWith("error: ").And.Contain("fallback"));
    }
}
