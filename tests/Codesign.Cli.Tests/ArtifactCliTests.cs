using Codesign.Testing;
using static Codesign.Cli.Tests.CliRunner;

namespace Codesign.Cli.Tests;

/// <summary><c>compile --target cpu -o DIR</c>, then <c>run DIR</c> and <c>eval DIR</c>, as the README shows them.</summary>
public class ArtifactCliTests : ScratchDirectoryTest
{
    /// <summary>Points the LLVM binding at a library that does not exist: any use of LLVM in that process fails.</summary>
    private static readonly Dictionary<string, string> NoLlvm = new() { ["CODESIGN_LIBLLVM"] = "/nonexistent/libLLVM-15.so" };

    [Test]
    public void A_cpu_artifact_runs_in_a_process_that_cannot_load_llvm_and_generates_the_reference_tokens()
    {
        string dir = Path.Combine(Scratch, "f32");
        var compile = Run("compile", TestPaths.TinyLlama, "--target", "cpu", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(compile.Out, Does.Contain($"wrote {dir}: cpu artifact"));

        string[] run = ["run", dir, "--prompt", Prompt(2), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids", "--threads", "2"];
        var child = RunInNewProcess(NoLlvm, run);
        Assert.That(child.Exit, Is.Zero, child.Err);
        Assert.That(LastLine(child.Out), Is.EqualTo(string.Join(' ', Reference("prompt2.greedy"))));

        // The control: the same environment does stop a process that needs LLVM.
        var jit = RunInNewProcess(NoLlvm, "run", TestPaths.TinyLlama, "--prompt", "x", "--max-tokens", "1", "--device", "cpu");
        Assert.That(jit.Exit, Is.EqualTo(1));
        Assert.That(jit.Err, Does.Contain("libLLVM-15 is not installed (looked for /nonexistent/libLLVM-15.so)"));
    }

    [Test]
    public void An_artifact_compiled_with_a_placement_runs_as_placed_without_llvm_and_generates_the_reference_tokens()
    {
        string dir = Path.Combine(Scratch, "placed");
        var compile = Run("compile", TestPaths.TinyLlama, "--placement", "norm=gpu,*=cpu", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(compile.Out, Does.Contain($"wrote {dir}: placed artifact (norm=gpu,*=cpu), 19 segments").And.Contain("-> segments/1-gpu/graph.cir"));

        var child = RunInNewProcess(NoLlvm, "run", dir, "--prompt", Prompt(2), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids", "--threads", "2");
        Assert.That(child.Exit, Is.Zero, child.Err);
        Assert.That(LastLine(child.Out), Is.EqualTo(string.Join(' ', Reference("prompt2.greedy"))));
        Assert.That(child.Err, Does.Contain("placement norm=gpu,*=cpu (compiled): 19 segments; cpu: "));

        var again = Run("run", dir, "--prompt", "x", "--placement", "*=cpu");
        Assert.That(again.Err.Trim(), Does.StartWith($"error: {dir}: was compiled with --placement norm=gpu,*=cpu and runs as placed"));
        var both = Run("compile", TestPaths.TinyLlama, "--placement", "*=cpu", "--target", "cpu", "-o", dir);
        Assert.That((both.Exit, both.Err.Trim()), Is.EqualTo((1, "error: --target cpu and --placement exclude each other: the placement names the devices")));
    }

    [Test]
    public void A_quantized_artifact_scores_the_perplexity_of_the_in_process_cpu_device()
    {
        string dir = Path.Combine(Scratch, "w4");
        string recipe = TestPaths.ExampleRecipe("w4g128-gptq");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--recipe", recipe, "--target", "cpu", "--lut", "never", "-o", dir).Exit, Is.Zero);
        string ids = TestPaths.TinyLlamaReference + ":eval.ids";
        var fromArtifact = Run("eval", dir, "--ids", ids, "--window", "128");
        Assert.That(fromArtifact.Exit, Is.Zero, fromArtifact.Err);
        // The same compression and kernels, compiled in-process: the recipe line comes first, then the two results.
        var inProcess = Run("eval", TestPaths.TinyLlama, "--ids", ids, "--window", "128", "--recipe", recipe, "--device", "cpu", "--lut", "never");
        Assert.That(inProcess.Exit, Is.Zero, inProcess.Err);
        string perplexity = LastLine(fromArtifact.Out);
        Assert.That(perplexity, Does.StartWith("perplexity: "));
        Assert.That(inProcess.Out, Does.Contain(perplexity + " (f32 "));
    }

    [Test]
    public void An_artifact_compiled_from_a_gguf_file_keeps_its_vocabulary()
    {
        string gguf = Path.Combine(Scratch, "f32.gguf"), dir = Path.Combine(Scratch, "from-gguf");
        Assert.That(Run("compile", TestPaths.TinyLlama, "-o", gguf).Exit, Is.Zero);
        var compile = Run("compile", gguf, "--target", "cpu", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(File.Exists(Path.Combine(dir, "vocabulary.json")));
        var run = Run("run", dir, "--prompt", Prompt(0), "--max-tokens", "32", "--greedy", "--ignore-eos", "--ids");
        Assert.That(run.Exit, Is.Zero, run.Err);
        Assert.That(LastLine(run.Out), Is.EqualTo(string.Join(' ', Reference("prompt0.greedy"))));
    }

    [Test]
    public void Inspect_shows_what_an_artifact_was_compiled_from_and_for_and_a_quantized_gguf_model()
    {
        string dir = Path.Combine(Scratch, "w2"), gguf = Path.Combine(Scratch, "q4.gguf");
        string recipe = TestPaths.ExampleRecipe("w2g32-awq");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--recipe", recipe, "--target", "cpu", "--lut", "always", "-o", dir).Exit, Is.Zero);
        var inspect = Run("inspect", dir);
        Assert.That(inspect.Exit, Is.Zero, inspect.Err);
        Assert.That(inspect.Out, Does.Contain("artifact (every file's SHA-256 checked)").And.Contain("w2g32-awq.json").And.Contain("4,000,000"));
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            Assert.That(inspect.Out, Does.Contain("avx2").And.Contain("28 of 28 quantized").And.Contain("│ Lut "));
        // A model whose weights are packed (GGUF Q4_0) lists its bytes from the file.
        Assert.That(Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("gguf-q4_0"), "-o", gguf).Exit, Is.Zero);
        var model = Run("inspect", gguf);
        Assert.That(model.Exit, Is.Zero, model.Err);
        Assert.That(model.Out, Does.Contain("quant<int4, g32"));
    }

    [Test]
    public void Without_a_linker_compiling_for_the_cpu_is_one_clear_error_and_leaves_nothing_behind()
    {
        string dir = Path.Combine(Scratch, "no-ld");
        var run = RunInNewProcess(new Dictionary<string, string> { ["PATH"] = "/nonexistent" }, "compile", TestPaths.TinyLlama, "--target", "cpu", "-o", dir);
        Assert.That(run.Exit, Is.EqualTo(1), run.Err);
        Assert.That(run.Err, Does.StartWith("error: cpu backend: cannot link ").And.Contain("the linker 'ld' is not installed").And.Contain("apt-get install binutils"));
        Assert.That(Directory.GetFileSystemEntries(Scratch), Is.Empty, "no artifact and no staging directory");
    }

    [Test]
    public void Bench_reports_per_device_timings_for_a_model_and_an_artifact()
    {
        var model = Run("bench", TestPaths.TinyLlama, "--prompt-tokens", "8", "--tokens", "4", "--runs", "1", "--threads", "2");
        Assert.That(model.Exit, Is.Zero, model.Err);
        Assert.That(model.Out, Does.Contain("time to first token (ms)").And.Contain("decode tokens/s").And.Contain("kernels busy"));
        var rows = model.Out.Split('\n').Where(l => l.StartsWith("│ interpreter", StringComparison.Ordinal) || l.StartsWith("│ cpu", StringComparison.Ordinal)).ToArray();
        Assert.That(rows, Has.Length.EqualTo(2), model.Out);
        Assert.That(rows[1], Does.Match(@"│ cpu\s+│ 2\s+│\s+[\d.]+ │\s+\d+ │\s+[\d.]+ │\s+[\d.]+ │\s+\d+ │\s+\d+ % │"), "the cpu row has numbers in every column");

        string dir = Path.Combine(Scratch, "f32");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--target", "cpu", "-o", dir).Exit, Is.Zero);
        var artifact = Run("bench", dir, "--prompt-tokens", "8", "--tokens", "4", "--runs", "1");
        Assert.That(artifact.Exit, Is.Zero, artifact.Err);
        Assert.That(artifact.Out, Does.Contain("│ cpu "));
        var bad = Run("bench", TestPaths.TinyLlama, "--tokens", "0");
        Assert.That(bad.Err.Trim(), Is.EqualTo("error: --prompt-tokens, --tokens and --runs must be at least 1 (got 64, 0, 3)"));
        var tooLong = Run("bench", TestPaths.TinyLlama, "--device", "cpu", "--prompt-tokens", "500", "--tokens", "100");
        Assert.That(tooLong.Err, Does.Contain("exceed the model's 512 positions"));
    }

    [Test]
    public void Misuse_of_an_artifact_is_one_clear_error()
    {
        string dir = Path.Combine(Scratch, "f32");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--target", "cpu", "-o", dir).Exit, Is.Zero);
        var device = Run("run", dir, "--prompt", "x", "--device", "interpreter");
        Assert.That((device.Exit, device.Err), Is.EqualTo((1, $"error: {dir}: the interpreter runs models, not compiled artifacts; run the model this was compiled from ({TestPaths.TinyLlama})\n")));
        var recipe = Run("eval", dir, "--ids", TestPaths.TinyLlamaReference + ":eval.ids", "--recipe", TestPaths.ExampleRecipe("w8-rtn"));
        Assert.That(recipe.Err, Does.Contain("is a compiled artifact; --recipe needs the model it was compiled from"));
        var target = Run("compile", TestPaths.TinyLlama, "--target", "tpu", "-o", Path.Combine(Scratch, "tpu"));
        Assert.That(target.Err.Trim(), Is.EqualTo("error: --target tpu: the targets are: cpu, gpu, fpga"));
        var notArtifact = Run("run", Scratch, "--prompt", "x");
        Assert.That(notArtifact.Err, Does.Contain("directory has no config.json"));
    }
}
