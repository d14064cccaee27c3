using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Diagnostics;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// tiny-llama-a compressed for the accelerator, compiled into length-adaptive programs and decoded on the functional
/// model of the instruction set, against the reference interpreter on the same compressed graph.
/// </summary>
public class FunctionalAcceleratorTests
{
    internal static (Graph Graph, IWeightStore Store) Compressed(string recipe)
    {
        var m = ModelLoader.Load(TestPaths.TinyLlama);
        if (recipe == "f32") return (m.Graph, m.Weights);
        var store = RecipePipeline.Apply(m.Graph, m.Weights, RecipeLoader.Load(TestPaths.ExampleRecipe(recipe)), null);
        return (m.Graph, store);
    }

    /// <param name="recipe">An example recipe's name; with the suffix <c>+lut</c>, compiled with the 2- to 4-bit layers on the LUT engine.</param>
    /// <param name="shape">The matrix cores; by default one core of 16-byte beats.</param>
    internal static FpgaCompilation Compile(string recipe, int maxContext, AcceleratorShape? shape = null)
    {
        bool lut = recipe.EndsWith("+lut", StringComparison.Ordinal);
        var (graph, store) = Compressed(lut ? recipe[..^4] : recipe);
        return FpgaCompilation.Compile(graph, store, maxContext, lutEngine: lut, shape: shape);
    }

    internal static float[] InterpreterStep(ReferenceInterpreter interpreter, KvCache cache, Graph graph, int token, int position)
    {
        var inputs = new Dictionary<string, HostTensor> { ["tokens"] = HostTensor.I32([1], [token]), ["positions"] = HostTensor.I32([1], [position]) };
        return interpreter.Run(inputs, cache)[graph.Outputs[0].Name].Floats.ToArray();
    }

    internal static int ArgMax(float[] v) => Array.IndexOf(v, v.Max());

    internal static int[] FixturePrompt(int i)
    {
        using var file = SafetensorsFile.Open(TestPaths.TinyLlamaReference);
        return [.. file.ReadInt64($"prompt{i}.ids").Select(v => checked((int)v))];
    }

    /// <summary>
    /// Logits of the accelerator and the interpreter at every step of a prompt and <paramref name="generate"/> tokens,
    /// both fed the same tokens: the prompt, then the interpreter's greedy picks when <paramref name="teacherForced"/>,
    /// else the accelerator's own.
    /// </summary>
    private static List<(float[] Fpga, float[] Reference)> Decode(string recipe, int[] prompt, int generate, bool teacherForced)
    {
        var model = Compile(recipe, maxContext: 128);
        var graph = model.Graph;
        using var device = model.FunctionalModel();
        var runner = model.Runner(device);
        var interpreter = new ReferenceInterpreter(graph, model.Store);
        var cache = new KvCache();
        var steps = new List<(float[], float[])>();
        int next = 0;
        for (int step = 0; step < prompt.Length + generate; step++)
        {
            int token = step < prompt.Length ? prompt[step] : next;
            var fpga = runner.Decode(token, step + 1);
            var reference = InterpreterStep(interpreter, cache, graph, token, step);
            steps.Add((fpga, reference));
            next = ArgMax(teacherForced ? reference : fpga);
        }
        return steps;
    }

    private static double RelativeDifference(float[] actual, float[] reference) =>
        actual.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / reference.Max(v => Math.Abs(v));

    /// <summary>
    /// Logits stay within <see cref="QuantizedTolerance"/> of the largest logit (the accelerator's silu and attention
    /// differ from the interpreter's in the last bits, and now and then such a bit moves an int8 activation code of
    /// the next matrix by one), and the accelerator's greedy pick is the interpreter's wherever the interpreter's own
    /// top two are further apart than that.
    /// </summary>
    [TestCase("fpga-w8a8", 0), TestCase("fpga-w8a8", 1), TestCase("fpga-w4a8", 2), TestCase("fpga-w4a8", 3), TestCase("fpga-w4a8-sparse24", 0), TestCase("fpga-w4a8-sparse24", 1), TestCase("fpga-w4a8-block", 2), TestCase("w4g128-rtn+lut", 0), TestCase("w2g32-rtn+lut", 3), TestCase("fpga-w4a8-kv8", 0), TestCase("fpga-w4a8-kv8", 3)]
    public void Teacher_forced_logits_stay_within_the_stated_tolerance_and_clear_greedy_picks_agree(string recipe, int promptIndex)
    {
        var steps = Decode(recipe, FixturePrompt(promptIndex), 24, teacherForced: true);
        double worst = 0;
        for (int s = 0; s < steps.Count; s++)
        {
            var (fpga, reference) = steps[s];
            double difference = RelativeDifference(fpga, reference);
            worst = Math.Max(worst, difference);
            Assert.That(difference, Is.LessThan(QuantizedTolerance), $"step {s}: largest logit difference relative to the largest logit");
            int pick = ArgMax(fpga), expected = ArgMax(reference);
            double margin = (reference[expected] - reference[pick]) / reference.Max(v => Math.Abs(v));
            Assert.That(pick == expected || margin < 2 * QuantizedTolerance, $"step {s}: picked {pick} over {expected}, {margin:E2} apart in the interpreter's logits");
        }
        TestContext.Out.WriteLine($"{recipe}, prompt {promptIndex}: largest logit difference {worst:E2} of the largest logit over {steps.Count} steps");
    }

    /// <summary>The end-to-end check: free-running greedy generation on the accelerator gives the interpreter's tokens.</summary>
    [TestCase("fpga-w8a8", 0), TestCase("fpga-w8a8", 1), TestCase("fpga-w4a8", 2), TestCase("fpga-w4a8-sparse24", 1), TestCase("fpga-w4a8-block", 0), TestCase("w4g128-rtn+lut", 1), TestCase("fpga-w4a8-kv8", 2)]
    public void Greedy_generation_on_the_functional_model_gives_the_interpreters_tokens(string recipe, int promptIndex)
    {
        var prompt = FixturePrompt(promptIndex);
        var steps = Decode(recipe, prompt, 24, teacherForced: false);
        var fpga = steps.Skip(prompt.Length - 1).Select(s => ArgMax(s.Fpga)).ToList();
        var reference = steps.Skip(prompt.Length - 1).Select(s => ArgMax(s.Reference)).ToList();
        Assert.That(fpga, Is.EqualTo(reference));
    }

    /// <summary>Without quantized activations nothing amplifies last-bit differences: an f32 graph stays within 2e-6.</summary>
    [Test]
    public void An_f32_graph_decodes_within_float_rounding_of_the_interpreter()
    {
        var steps = Decode("f32", FixturePrompt(0), 16, teacherForced: true);
        double worst = steps.Max(s => RelativeDifference(s.Fpga, s.Reference));
        TestContext.Out.WriteLine($"f32: largest logit difference {worst:E2} of the largest logit over {steps.Count} steps");
        Assert.That(worst, Is.LessThan(2e-6));
        Assert.That(steps.Select(s => ArgMax(s.Fpga)), Is.EqualTo(steps.Select(s => ArgMax(s.Reference))));
    }

    /// <summary>
    /// A prompt in prefill chunks of random lengths (the causal mask inside the KV tiles) gives every position's
    /// logits as the interpreter's token-by-token run does: within float rounding on an f32 graph, within the stated
    /// tolerance on a quantized one; then decoding goes on from the cache the chunks wrote.
    /// </summary>
    [TestCase("f32", 2e-6), TestCase("fpga-w4a8", QuantizedTolerance), TestCase("fpga-w4a8-sparse24", QuantizedTolerance), TestCase("fpga-w4a8-block", QuantizedTolerance), TestCase("fpga-w4a8-kv8", QuantizedTolerance)]
    public void Prefill_chunks_give_each_positions_logits_as_token_by_token_decoding(string recipe, double tolerance)
    {
        var model = Compile(recipe, maxContext: 160);
        using var device = model.FunctionalModel();
        var runner = model.Runner(device);
        Assert.That(runner.ChunkTokens, Is.EqualTo(FpgaCompilation.DefaultChunkTokens));
        var interpreter = new ReferenceInterpreter(model.Graph, model.Store);
        var cache = new KvCache();
        var r = RandomTensors.Fresh();
        // The fixture's prompts back to back, 150 tokens: past the first 128-token prefill bucket, tiles of every mask shape.
        var prompt = Enumerable.Range(0, 8).SelectMany(i => FixturePrompt(i % 4)).Take(150).ToArray();
        Assert.That(prompt, Has.Length.EqualTo(150));
        double worst = 0;
        for (int done = 0; done < prompt.Length;)
        {
            int n = Math.Min(r.Next(2, runner.ChunkTokens + 1), prompt.Length - done);
            var logits = runner.Step(prompt.AsSpan(done, n), done + n);
            for (int t = 0; t < n; t++)
            {
                var reference = InterpreterStep(interpreter, cache, model.Graph, prompt[done + t], done + t);
                double difference = RelativeDifference(logits.AsSpan(t * reference.Length, reference.Length).ToArray(), reference);
                worst = Math.Max(worst, difference);
                Assert.That(difference, Is.LessThan(tolerance), $"position {done + t} (token {t} of a chunk of {n})");
            }
            done += n;
        }
        var next = runner.Decode(7, prompt.Length + 1);
        Assert.That(RelativeDifference(next, InterpreterStep(interpreter, cache, model.Graph, 7, prompt.Length)), Is.LessThan(tolerance), "a decode step after the chunks");
        TestContext.Out.WriteLine($"{recipe}: largest logit difference {worst:E2} of the largest logit over {prompt.Length} prompt positions in chunks");
    }

    private const double QuantizedTolerance = 5e-2;

    /// <summary>
    /// The design carries only the units its model uses: with every matrix and attention on the cores (fpga-w4a8-kv8)
    /// there is no binary32 engine, and an f32 lm_head (fpga-w4a8) keeps it; a 2:4 model's cores wire no 4:8 inputs.
    /// </summary>
    [TestCase("fpga-w4a8-kv8", false, false), TestCase("fpga-w4a8", true, false), TestCase("fpga-w4a8-sparse24", true, true)]
    public void The_rendered_design_leaves_out_the_units_its_model_does_not_use(string recipe, bool binary32, bool sparse)
    {
        var model = Compile(recipe, maxContext: 32, new AcceleratorShape(2, 16));
        Assert.That(model.Plan.Cores.Binary32Engine, Is.EqualTo(binary32));
        var files = model.Rtl.Render();
        Assert.That(files.ContainsKey("accel_fp32_matrix.sv"), Is.EqualTo(binary32));
        Assert.That(files[$"{Rtl.AcceleratorRtl.Top}.sv"], binary32 ? Does.Contain("u_fp32_matrix (") : Does.Not.Contain("u_fp32_matrix (").And.Contain("assign fp_fault = 5'd1;"));
        Assert.That(model.Cores.Mux, Is.EqualTo(sparse ? SparseMux.TwoOfFour : SparseMux.None));
        Assert.That(files["accel_cores.sv"], Does.Contain(sparse ? ".SPARSE(1'b1), .NM8(1'b0)" : ".SPARSE(1'b0), .NM8(1'b0)"));
        var estimate = CoreFit.Estimate(model.Cores.Shape, model.Cores.Mux, CoreFit.Shared(model.Buffers, model.Rtl.ProgramDepth, model.Rtl.LegacyMatrix, binary32));
        var withEngine = CoreFit.Estimate(model.Cores.Shape, model.Cores.Mux, CoreFit.Shared(model.Buffers, model.Rtl.ProgramDepth, model.Rtl.LegacyMatrix, true));
        Assert.That(withEngine.Lut - estimate.Lut, Is.EqualTo(binary32 ? 0 : CoreFit.MeasuredBinary32Engine.Lut));
    }

    /// <summary>Cores that wire 2:4 only refuse a 4:8 row as a format they do not execute (fault 1), where cores that wire both take it.</summary>
    [Test]
    public void Cores_without_the_four_of_eight_inputs_refuse_a_four_of_eight_row()
    {
        var g32 = IR.Types.QuantScheme.Create(4, 32, false, IR.Types.DType.F16);
        var fourOfEight = new CoreMatrixOperands(4 | MatrixFormat.Sparse, (byte)(MatrixLayout.Of(g32) | MatrixLayout.Pattern(4, 8)!.Value), 0, 8, 64, 1, 32, 0, 20);
        var twoOfFour = fourOfEight with { Layout = (byte)(MatrixLayout.Of(g32) | MatrixLayout.Pattern(2, 4)!.Value) };
        var shape = new AcceleratorShape(2, 16);
        var both = MatrixCoreDesign.For(shape, 512, 64, 16, 64, [32], sparse: true, fourOfEight: true);
        var twoOnly = MatrixCoreDesign.For(shape, 512, 64, 16, 64, [32], sparse: true, fourOfEight: false);
        Assert.That(both.Refusal(fourOfEight), Is.Null);
        Assert.That(twoOnly.Refusal(twoOfFour), Is.Null);
        Assert.That(twoOnly.Refusal(fourOfEight)?.Fault, Is.EqualTo(1));
        Assert.That(twoOnly.Refusal(fourOfEight)?.Reason, Does.Contain("4:8"));
        using var functional = new FunctionalAccelerator(8192, new OnChipBuffers(256, 2, 2), twoOnly, 65_536);
        var program = new[] { fourOfEight.Encode(decode: true, Units.None, Units.None), new Instruction(Opcode.End, 0, Units.All, Units.None, 0, 0, 0, 0) };
        Assert.That(() => functional.Run(program), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 0").And.Message.Contain("4:8"));
    }

    [Test]
    public void An_access_outside_a_memory_and_a_program_without_end_are_faults_naming_the_instruction()
    {
        using var device = new FunctionalAccelerator(1024, new OnChipBuffers(4, 4, 4));
        var load = new Instruction(Opcode.Load, (byte)OnChipBuffer.Activations, Units.None, Units.Load, 62, 0, 64, 0);
        Assert.That(() => device.Run([load, new Instruction(Opcode.End, 0, Units.All, Units.None, 0, 0, 0, 0)]),
            Throws.TypeOf<CodesignException>().With.Message.StartWith("fpga-sim: instruction 0 (Load Activations ext=0x3e").And.Message.Contain("64 bytes at byte 992 are outside the 1024-byte external memory"));
        var store = new Instruction(Opcode.Store, (byte)OnChipBuffer.Activations, Units.None, Units.Store, 0, 3, 32, 0);
        Assert.That(() => device.Run([store, new Instruction(Opcode.End, 0, Units.All, Units.None, 0, 0, 0, 0)]),
            Throws.TypeOf<CodesignException>().With.Message.Contain("32 bytes at byte 48 are outside the 64-byte activation buffer"));
        Assert.That(() => device.Run([new Instruction(Opcode.Sync, 0, Units.None, Units.None, 0, 0, 0, 0)]),
            Throws.TypeOf<CodesignException>().With.Message.EqualTo("fpga-sim: instruction 1: the program of 1 instructions has no END"));
        Assert.That(() => device.Write(1000, new byte[30]), Throws.TypeOf<CodesignException>().With.Message.EqualTo("fpga-sim: 30 bytes at byte 1000 are outside the 1024-byte external memory"));
    }
}
