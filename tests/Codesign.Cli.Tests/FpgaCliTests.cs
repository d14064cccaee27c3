using Codesign.Backends.Fpga.Verification;
using Codesign.Compiler.Frontends;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;
using static Codesign.Cli.Tests.CliRunner;

namespace Codesign.Cli.Tests;

/// <summary>
/// <c>compile --target fpga -o DIR</c>, then <c>run DIR</c> on the Verilated accelerator RTL (the fpga-sim device) and
/// <c>sim DIR</c>'s cycle report, as the README shows them.
/// </summary>
[Category("Verilator")]
public class FpgaCliTests : ScratchDirectoryTest
{
    private const string Recipe = "fpga-w8a8";
    private const string PromptText = "The little robot";

    [OneTimeSetUp]
    public void CheckVerilator()
    {
        if (!Verilator.IsInstalled) Assert.Ignore("verilator is not installed (scripts/setup.sh installs it): the accelerator RTL cannot be simulated here");
    }

    /// <param name="lutEngine">The graph as the fpga compile lowers it with the LUT engine on.</param>
    private static List<int> InterpreterTokens(int[] prompt, int count, string recipe = Recipe, bool lutEngine = false)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var graph = lutEngine ? Backends.Fpga.Compilation.LutEngineLowering.Apply(m.Graph) : m.Graph;
        return TextGenerator.Generate(new InterpreterSession(new ReferenceInterpreter(graph, store)), prompt, count, SamplingOptions.GreedyDecoding);
    }

    [Test]
    public void An_fpga_artifact_runs_on_the_rtl_with_the_interpreters_tokens_and_sim_reports_its_cycles()
    {
        string dir = Path.Combine(Scratch, "w8a8");
        var compile = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--max-context", "32",
            "--fpga-cores", "2", "--fpga-beat", "16", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(compile.Out, Does.Contain($"wrote {dir}: fpga artifact for the u280 (xcu280-fsvh2892-2L-e), KV cache for 32 tokens")
            .And.Contain("programs: 2 decode and 1 prefill-chunk (up to 8 tokens) length buckets").And.Contain("rtl: 20 files in fpga/rtl").And.Contain("not synthesised (--no-synthesis)")
            .And.Contain("matrix cores: 2 cores x 32 lanes (16-byte beats), each a port of 16 bytes/cycle on the hbm"));

        var run = Run("run", dir, "--prompt", PromptText, "--max-tokens", "6", "--greedy", "--ignore-eos", "--ids");
        Assert.That(run.Exit, Is.Zero, run.Err);
        var prompt = Runtime.Artifacts.CompiledArtifact.Open(dir).Tokenizer()!.EncodePrompt(PromptText).ToArray();
        Assert.That(LastLine(run.Out), Is.EqualTo(string.Join(' ', InterpreterTokens(prompt, 6))), "fpga-sim's tokens are the interpreter's on the compressed graph");
        // run MODEL --recipe gives the golden tokens from the CLI: the compressed graph on the interpreter
        var golden = Run("run", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--prompt", PromptText, "--max-tokens", "6", "--greedy", "--ignore-eos", "--ids");
        Assert.That(golden.Exit, Is.Zero, golden.Err);
        Assert.That(LastLine(golden.Out), Is.EqualTo(LastLine(run.Out)));

        var sim = Run("sim", dir, "--prompt", PromptText, "--max-tokens", "6", "--ignore-eos");
        Assert.That(sim.Exit, Is.Zero, sim.Err);
        var lines = sim.Out.Split('\n');
        Assert.That(lines[0], Is.EqualTo(run.Out.Split('\n')[0]), "the same text as run");
        Assert.That(sim.Out, Does.Contain($"fpga-sim: {prompt.Length} prompt tokens and 6 generated on the u280 at 225 MHz"));
        // The prompt in chunks of up to 8 (a last chunk of one token is a decode step), each fed-back token a decode step.
        int tail = prompt.Length % 8, chunks = prompt.Length / 8 + (tail > 1 ? 1 : 0);
        var prefill = System.Text.RegularExpressions.Regex.Match(sim.Out,
            $@"prefill: {prompt.Length - (tail == 1 ? 1 : 0)} tokens in {chunks} chunks of up to 8: \d+ cycles a token \(predicted \d+, ([\d.]+) of measured\); [\d.]+ tokens/s");
        Assert.That(prefill.Success, sim.Out);
        Assert.That(double.Parse(prefill.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(1.0).Within(0.1), "prefill: predicted within 10 %");
        Assert.That(sim.Out, Does.Contain($"decode: {5 + (tail == 1 ? 1 : 0)} steps, a token each: "));
        foreach (var name in new[] { "matvec", "attention", "sfu.rmsnorm", "sfu.rope", "sfu.softmaxtile", "load", "gather", "all" })
        {
            var row = lines.Single(l => l.StartsWith($"│ {name} ", StringComparison.Ordinal)).Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            double measured = double.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture), ratio = double.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(measured, Is.GreaterThan(0), name);
            Assert.That(ratio, Is.EqualTo(1.0).Within(0.1), $"{name}: the performance model predicts the simulated cycles within 10 %");
        }
        Assert.That(LastLine(sim.Out), Does.Match(@"^decode tokens/s at 225 MHz: [\d.]+ \(simulated cycles\)$"));
    }

    /// <summary>
    /// A W4 model with f32 activations compiles onto the LUT-mpGEMM engine (the artifact's graph says lut.mpgemm) and
    /// runs with the interpreter's tokens on that graph; with --lut never the DSP chain refuses it, naming the layer.
    /// </summary>
    [Test]
    public void A_w4_model_compiles_onto_the_lut_engine_and_lut_never_is_refused_naming_the_layer()
    {
        string dir = Path.Combine(Scratch, "w4-lut");
        var compile = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("w4g128-rtn"), "--target", "fpga", "--no-synthesis", "--max-context", "32", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        Assert.That(File.ReadAllText(Path.Combine(dir, "graph.cir")), Does.Contain("lut.mpgemm").And.Not.Contain("quant.qmatmul"));
        var run = Run("run", dir, "--prompt", PromptText, "--max-tokens", "6", "--greedy", "--ignore-eos", "--ids", "--device", "fpga-model");
        Assert.That(run.Exit, Is.Zero, run.Err);
        var prompt = Runtime.Artifacts.CompiledArtifact.Open(dir).Tokenizer()!.EncodePrompt(PromptText).ToArray();
        Assert.That(LastLine(run.Out), Is.EqualTo(string.Join(' ', InterpreterTokens(prompt, 6, "w4g128-rtn", lutEngine: true))));

        var never = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe("w4g128-rtn"), "--target", "fpga", "--no-synthesis", "--lut", "never", "-o", Path.Combine(Scratch, "w4-never"));
        Assert.That(never.Exit, Is.Not.Zero);
        Assert.That(never.Err, Does.Contain("quant.qmatmul over quant<int4, g128, asym, f16, lsb> with f32 activations").And.Contain("LUT engine"));
    }

    /// <summary>
    /// The whole accelerator through Yosys once (minutes); the second compile, for a device too small, finds the counts
    /// of the same RTL cached and fails before writing anything.
    /// </summary>
    [Test, Category("Yosys")]
    public void Compiling_for_the_fpga_prints_the_synthesised_resources_and_fails_clearly_when_the_device_is_too_small()
    {
        if (!YosysSynthesis.IsInstalled) Assert.Ignore("yosys is not installed (scripts/setup.sh installs it)");
        string dir = Path.Combine(Scratch, "u280");
        // the design WholeDesignSynthesisTests synthesises: Yosys' counts are cached by the RTL's hash
        var compile = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--max-context", "16",
            "--fpga-cores", "2", "--fpga-beat", "16", "-o", dir);
        Assert.That(compile.Exit, Is.Zero, compile.Err);
        var line = compile.Out.Split('\n').Single(l => l.Contains("yosys synth_xilinx -family xcup", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(line, @"DSP (\d+) of 9024, LUT (\d+) of 1303680, FF (\d+) of 2607360, BRAM36 ([\d.]+) of 2016");
        Assert.That(match.Success, line);
        int dsp = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(dsp, Is.GreaterThanOrEqualTo(64), "at least the two cores' 32 multipliers each are DSP slices");
        Assert.That(double.Parse(match.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0), "the on-chip buffers are block RAM");
        var manifest = Runtime.Artifacts.CompiledArtifact.Open(dir).Manifest.Devices.Fpga!;
        Assert.That(manifest.Resources!.Dsp, Is.EqualTo(dsp));
        var depth = compile.Out.Split('\n').Single(l => l.Contains("logic depth: deepest register-to-register path", StringComparison.Ordinal));
        Assert.That(depth, Does.Contain("LUT levels (").And.Contain("estimated Fmax").And.Contain("against the device's 225 MHz, which allows 7").And.Contain("an estimate"));
        Assert.That(manifest.Resources.Depth!.Deepest, Is.GreaterThan(7), "the manifest keeps the depth by unit");

        string small = Path.Combine(Scratch, "small.json");
        File.WriteAllText(small, File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "devices", "zcu104.json"))
            .Replace("\"name\": \"zcu104\"", "\"name\": \"tiny\"", StringComparison.Ordinal).Replace("\"dsp\": 1728", "\"dsp\": 8", StringComparison.Ordinal));
        string refused = Path.Combine(Scratch, "tiny");
        var tooSmall = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--fpga-device", small, "--max-context", "16",
            "--fpga-cores", "1", "--fpga-beat", "16", "-o", refused);
        Assert.That(tooSmall.Exit, Is.EqualTo(1));
        // the estimate refuses it before synthesis
        Assert.That(tooSmall.Err, Does.StartWith("error: fpga: 1 cores x 32 lanes (16-byte beats) do not fit the tiny (xczu7ev-ffvc1156-2-e): estimated DSP"));
        Assert.That(Directory.Exists(refused), Is.False, "nothing written");
    }

    [Test]
    public void Misuse_of_an_fpga_artifact_is_one_clear_error()
    {
        string dir = Path.Combine(Scratch, "fpga");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--max-context", "16", "-o", dir).Exit, Is.Zero);
        var device = Run("run", dir, "--prompt", "x", "--device", "cpu");
        Assert.That(device.Err.Trim(), Is.EqualTo($"error: {dir}: the artifact holds no code for device 'cpu' (it holds: fpga-sim); compile it with --target cpu"));
        var chunk = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--chunk", "200", "-o", Path.Combine(Scratch, "chunk"));
        Assert.That(chunk.Err.Trim(), Is.EqualTo("error: fpga: a prefill chunk of 200 tokens; it takes 1 to 128"));
        var simDevice = Run("sim", dir, "--prompt", "x", "--device", "gpu");
        Assert.That(simDevice.Err.Trim(), Is.EqualTo("error: --device gpu: sim runs fpga-sim or fpga-model"));
        // Generation stops where the compiled KV cache ends; a prompt longer than it is refused.
        var full = Run("run", dir, "--prompt", PromptText, "--max-tokens", "40", "--ignore-eos", "--ids", "--device", "fpga-model");
        Assert.That(full.Exit, Is.Zero, full.Err);
        int promptTokens = Runtime.Artifacts.CompiledArtifact.Open(dir).Tokenizer()!.EncodePrompt(PromptText).Count;
        Assert.That(LastLine(full.Out).Split(' '), Has.Length.EqualTo(16 - promptTokens + 1));
        var tooLong = Run("run", dir, "--prompt", string.Join(' ', Enumerable.Repeat(PromptText, 8)), "--device", "fpga-model");
        Assert.That(tooLong.Err, Does.Contain("exceeds the model's 16 positions"));
        var model = Run("run", TestPaths.TinyLlama, "--prompt", "x", "--device", "fpga-sim");
        Assert.That(model.Err.Trim(), Is.EqualTo("error: fpga-sim runs fpga artifacts: compile the model with --target fpga -o DIR, then run DIR"));
        var cores = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--fpga-cores", "3", "-o", Path.Combine(Scratch, "three"));
        Assert.That(cores.Err.Trim(), Is.EqualTo("error: fpga: 3 matrix cores; a power of two from 1 to 64"));
        var beat = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--fpga-beat", "48", "-o", Path.Combine(Scratch, "beat"));
        Assert.That(beat.Err.Trim(), Is.EqualTo("error: fpga: a core beat of 48 bytes; one of 16, 32, 64"));
        var lanes = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--fpga-cores", "2", "--fpga-beat", "32",
            "--fpga-lanes", "128", "-o", Path.Combine(Scratch, "lanes"));
        Assert.That(lanes.Err.Trim(), Is.EqualTo("error: fpga: 128 lanes behind 32-byte beats; 32, 64"));
        var oddLanes = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--fpga-lanes", "33", "-o", Path.Combine(Scratch, "odd"));
        Assert.That(oddLanes.Err.Trim(), Is.EqualTo("error: --fpga-lanes 33: two lanes a byte of a lane beat, so 32, 64 or 128"));
        var tooMany = Run("compile", TestPaths.TinyLlama, "--recipe", TestPaths.ExampleRecipe(Recipe), "--target", "fpga", "--no-synthesis", "--fpga-device", "zcu104",
            "--fpga-cores", "64", "--fpga-beat", "64", "-o", Path.Combine(Scratch, "many"));
        Assert.That(tooMany.Err, Does.StartWith("error: fpga: 64 cores x 128 lanes (64-byte beats) do not fit the zcu104 (xczu7ev-ffvc1156-2-e): estimated DSP"));
        var unknown = Run("compile", TestPaths.TinyLlama, "--target", "fpga", "--fpga-device", "vu19p", "-o", Path.Combine(Scratch, "x"));
        Assert.That(unknown.Err.Trim(), Is.EqualTo("error: fpga device 'vu19p': neither a file nor a built-in device (built in: u280, zcu104)"));
        // A destination that is not an artifact is refused before synthesis (here yosys is not even on the PATH).
        string occupied = Path.Combine(Scratch, "occupied");
        Directory.CreateDirectory(occupied);
        File.WriteAllText(Path.Combine(occupied, "notes.txt"), "mine");
        var refused = RunInNewProcess(new Dictionary<string, string> { ["PATH"] = "/nonexistent" },
            "compile", TestPaths.TinyLlama, "--target", "fpga", "--max-context", "16", "-o", occupied);
        Assert.That(refused.Err.Trim(), Is.EqualTo($"error: {occupied}: exists and is not an artifact (no manifest.json); not overwriting it"));
        string cpu = Path.Combine(Scratch, "cpu");
        Assert.That(Run("compile", TestPaths.TinyLlama, "--target", "cpu", "-o", cpu).Exit, Is.Zero);
        var notFpga = Run("sim", cpu, "--prompt", "x");
        Assert.That(notFpga.Err.Trim(), Is.EqualTo($"error: {cpu}: the artifact holds no fpga code (it holds: cpu); compile it with --target fpga"));
    }
}
