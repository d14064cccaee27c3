using System.Diagnostics;
using System.Globalization;
using Codesign.IR.Text;
using Codesign.Testing;
using static Codesign.Cli.Tests.CliRunner;

namespace Codesign.Cli.Tests;

/// <summary>The commands as documented in the README, run in-process on the fixture model.</summary>
public class CliTests
{
    [Test]
    public void Inspect_prints_architecture_parameters_dtypes_and_ops()
    {
        var (exit, output, _) = Run("inspect", TestPaths.TinyLlama);
        Assert.That(exit, Is.Zero);
        Assert.That(output, Does.Contain("4,000,000").And.Contain("num_kv_heads").And.Contain("f32").And.Contain("nn.attention"));
        Assert.That(output, Does.Contain("16,000,000"), "weight bytes");
    }

    [TestCase(0), TestCase(1), TestCase(2), TestCase(3)]
    public void Run_with_a_fixture_prompt_generates_the_reference_greedy_tokens(int prompt)
    {
        var (exit, output, err) = Run("run", TestPaths.TinyLlama, "--prompt", Prompt(prompt), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids");
        Assert.That(exit, Is.Zero, err);
        Assert.That(LastLine(output), Is.EqualTo(string.Join(' ', Reference($"prompt{prompt}.greedy"))));
    }

    [Test]
    public void Run_on_the_cpu_device_generates_the_reference_greedy_tokens()
    {
        var (exit, output, err) = Run("run", TestPaths.TinyLlama, "--prompt", Prompt(2), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids", "--device", "cpu", "--threads", "2");
        Assert.That(exit, Is.Zero, err);
        Assert.That(LastLine(output), Is.EqualTo(string.Join(' ', Reference("prompt2.greedy"))));
        var unknown = Run("run", TestPaths.TinyLlama, "--prompt", "x", "--device", "tpu");
        Assert.That((unknown.Exit, unknown.Err.Trim()), Is.EqualTo((1, "error: unknown device 'tpu' (one of interpreter, cpu, gpu)")));
    }

    [Test]
    public void Run_with_a_placement_splits_the_model_across_devices_and_generates_the_reference_greedy_tokens()
    {
        var (exit, output, err) = Run("run", TestPaths.TinyLlama, "--prompt", Prompt(1), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids", "--placement", "matmul=cpu,*=interpreter", "--threads", "2");
        Assert.That(exit, Is.Zero, err);
        Assert.That(LastLine(output), Is.EqualTo(string.Join(' ', Reference("prompt1.greedy"))));
        Assert.That(err, Does.Contain("placement matmul=cpu,*=interpreter:").And.Contain("cpu: matmul 29"));
        var both = Run("run", TestPaths.TinyLlama, "--prompt", "x", "--device", "cpu", "--placement", "*=cpu");
        Assert.That((both.Exit, both.Err.Trim()), Is.EqualTo((1, "error: --device and --placement exclude each other: the placement names the devices")));
        var gap = Run("run", TestPaths.TinyLlama, "--prompt", "x", "--placement", "matmul=cpu");
        Assert.That(gap.Err, Does.StartWith("error: --placement 'matmul=cpu' places no rule on nn.embedding"));
    }

    [Test]
    public void Run_stops_at_end_of_sequence_unless_told_otherwise()
    {
        var (exit, output, _) = Run("run", TestPaths.TinyLlama, "--prompt", Prompt(0), "--max-tokens", "32", "--ids");
        Assert.That(exit, Is.Zero);
        Assert.That(LastLine(output), Is.EqualTo("2"), "the reference's first greedy token after prompt 0 is EOS");
    }

    [Test]
    public void Sampling_is_reproducible_with_a_seed()
    {
        string[] args = ["run", TestPaths.TinyLlama, "--prompt", "The license", "--max-tokens", "12", "--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "7", "--ids", "--ignore-eos"];
        var first = Run(args);
        Assert.That(first.Exit, Is.Zero, first.Err);
        Assert.That(LastLine(first.Out).Split(' '), Has.Length.EqualTo(12));
        Assert.That(Run(args).Out, Is.EqualTo(first.Out));
    }

    [Test]
    public void Eval_reproduces_the_reference_perplexity_in_under_30_seconds()
    {
        var clock = Stopwatch.StartNew();
        var (exit, output, err) = Run("eval", TestPaths.TinyLlama, "--ids", TestPaths.TinyLlamaReference + ":eval.ids", "--window", "256");
        clock.Stop();
        Assert.That(exit, Is.Zero, err);
        string last = LastLine(output);
        Assert.That(last, Does.StartWith("perplexity: "));
        double ppl = double.Parse(last["perplexity: ".Length..], CultureInfo.InvariantCulture);
        Assert.That(Math.Abs(ppl / 38.63226004919436 - 1), Is.LessThan(1e-3));
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(30));
    }

    [Test]
    public void Eval_of_a_text_file_tokenizes_it_with_BOS()
    {
        var (exit, output, err) = Run("eval", TestPaths.TinyLlama, "--text", Path.Combine(TestPaths.TinyLlama, "calibration.txt"), "--window", "128");
        Assert.That(exit, Is.Zero, err);
        double ppl = double.Parse(LastLine(output)["perplexity: ".Length..], CultureInfo.InvariantCulture);
        Assert.That(ppl, Is.InRange(2.0, 200.0), "text from the training distribution");
    }

    [Test]
    public void Ir_prints_text_that_parses_back_to_the_same_text()
    {
        var (exit, output, _) = Run("ir", TestPaths.TinyLlama);
        Assert.That(exit, Is.Zero);
        Assert.That(output, Does.StartWith("graph @tiny_llama_a"));
        Assert.That(GraphPrinter.Print(GraphParser.Parse(output)), Is.EqualTo(output));
        string file = Path.Combine(TestPaths.NewScratchDirectory("ir"), "model.cir");
        File.WriteAllText(file, output);
        Assert.That(Run("ir", file).Out, Is.EqualTo(output));
    }

    [Test]
    public void A_broken_text_ir_file_reports_line_and_column()
    {
        string file = Path.Combine(TestPaths.NewScratchDirectory("ir"), "bad.cir");
        File.WriteAllText(file, "graph @g {\n  %x = input : tensor<[4], f32>\n  return %y\n}\n");
        var (exit, _, err) = Run("ir", file);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(err, Does.StartWith("error: line 3:10:"));
    }

    [Test]
    public void Errors_are_one_line_naming_the_problem_with_exit_code_1()
    {
        var missing = Run("run", "/nonexistent/model", "--prompt", "x");
        Assert.That(missing.Exit, Is.EqualTo(1));
        Assert.That(missing.Err, Does.StartWith("error: /nonexistent/model"));
        Assert.That(missing.Err, Does.Not.Contain("   at "), "no stack trace");

        var both = Run("run", TestPaths.TinyLlama, "--prompt", "x", "--greedy", "--temperature", "0.7");
        Assert.That((both.Exit, both.Err.Trim()), Is.EqualTo((1, "error: --greedy and --temperature exclude each other")));

        var badIds = Run("eval", TestPaths.TinyLlama, "--ids", TestPaths.TinyLlamaReference + ":prompt0.logits");
        Assert.That(badIds.Exit, Is.EqualTo(1));
        Assert.That(badIds.Err, Does.Contain("prompt0.logits").And.Contain("I64 or I32"));

        var neither = Run("eval", TestPaths.TinyLlama);
        Assert.That(neither.Err, Does.Contain("exactly one of --ids"));
    }
}
