using System.Text.Json.Nodes;
using Codesign.Backends.Fpga.Aot;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Devices;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.IR.Semantics;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>
/// fpga artifacts (memory image, length-bucket decode programs, the RTL rendered for the model): loaded, they run on
/// the functional model of the accelerator and generate the interpreter's tokens for the compressed graph; a manifest
/// whose sizes or addresses were edited is refused naming what is wrong, before any memory is allocated from them.
/// The same artifact on the Verilated RTL is checked by the CLI's tests (codesign sim).
/// </summary>
public class FpgaArtifactTests : ScratchDirectoryTest
{
    private string Artifact => Path.Combine(Scratch, "fpga");

    private ArtifactManifest Compile(string recipe, int maxContext = 48)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        return ArtifactWriter.WriteFpga(m, RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe)), Artifact, FpgaDevices.Load("u280"), maxContext, synthesize: false, recipe);
    }

    [TestCase("fpga-w8a8", "prompt1.ids"), TestCase("fpga-w4a8", "prompt2.ids")]
    /// <remarks>The prompts are those whose greedy picks clear the accelerator's stated tolerance (FunctionalAcceleratorTests).</remarks>
    public void An_fpga_artifact_generates_the_interpreters_tokens_on_the_functional_model(string recipe, string prompt)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var ids = TinyLlamaFixture.Ids(prompt);
        int maxContext = ids.Length + 11; // the prompt and 12 generated, the last of which is not fed back
        var manifest = ArtifactWriter.WriteFpga(m, store, Artifact, FpgaDevices.Load("u280"), maxContext, synthesize: false, recipe);
        var fpga = manifest.Devices.Fpga!;
        Assert.That(fpga.Decode, Has.Count.EqualTo((maxContext + 15) / 16), "a decode program per 16-token bucket");
        Assert.That(fpga.Prefill, Has.Count.EqualTo(1), "a prefill-chunk program per 128-token bucket");
        Assert.That(fpga.Io.ChunkTokens, Is.EqualTo(FpgaCompilation.DefaultChunkTokens));
        Assert.That(fpga.Storage.OneProgramPerLengthBytes, Is.GreaterThan(5 * fpga.Storage.Bytes));
        Assert.That(fpga.RtlFiles, Has.Member("fpga/rtl/accelerator.sv"));
        Assert.That(fpga.Resources, Is.Null);

        var artifact = CompiledArtifact.Open(Artifact);
        Assert.That(artifact.Devices, Is.EqualTo(new[] { FpgaSession.RtlDevice }));
        using var session = (FpgaSession)artifact.OpenSession(FpgaSession.FunctionalDevice);
        Assert.That(session.MaxPositions, Is.EqualTo(maxContext), "the KV region holds the compiled context");
        var reference = new InterpreterSession(new ReferenceInterpreter(artifact.Graph, store));
        Assert.That(TextGenerator.Generate(session, ids, 12, SamplingOptions.GreedyDecoding),
            Is.EqualTo(TextGenerator.Generate(reference, ids, 12, SamplingOptions.GreedyDecoding)));
        // The prompt goes in chunks of 8 (a last chunk of one token is a decode step), each generated token in a decode step.
        int chunks = ids.Length / 8, tail = ids.Length % 8;
        Assert.That((session.Tally.Prefill.Steps, session.Tally.Prefill.Tokens), Is.EqualTo((chunks + (tail > 1 ? 1 : 0), ids.Length - (tail == 1 ? 1 : 0))));
        Assert.That(session.Tally.Decode.Steps, Is.EqualTo(11 + (tail == 1 ? 1 : 0)));
        Assert.That(session.Tally.Measured, Is.False, "the functional model counts no cycles");
        Assert.That(session.Tally.Decode.PredictedByClass.Keys, Is.SupersetOf(new[] { "matvec", "attention", "sfu.rmsnorm", "sfu.rope", "gather" }));

        // Past the compiled context the session refuses the token; after a reset it starts over and agrees again.
        Assert.That(() => session.Forward([1]), Throws.InstanceOf<CodesignException>().With.Message.Contain($"exceeds the model's {maxContext} positions"));
        session.Reset();
        Assert.That(TextGenerator.Generate(session, ids, 4, SamplingOptions.GreedyDecoding),
            Is.EqualTo(TextGenerator.Generate(reference, ids, 4, SamplingOptions.GreedyDecoding)));
    }

    /// <summary>With a chunk of one token the artifact keeps decode programs only, and a prompt goes a token a step, to the same tokens.</summary>
    [Test]
    public void A_chunk_of_one_token_compiles_decode_programs_only_and_generates_the_same_tokens()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe("fpga-w8a8"));
        var ids = TinyLlamaFixture.Ids("prompt1.ids");
        var fpga = ArtifactWriter.WriteFpga(m, store, Artifact, FpgaDevices.Load("u280"), ids.Length + 8, synthesize: false, "fpga-w8a8", chunkTokens: 1).Devices.Fpga!;
        Assert.That((fpga.Prefill.Count, fpga.Io.ChunkTokens), Is.EqualTo((0, 1)));
        var artifact = CompiledArtifact.Open(Artifact);
        using var session = (FpgaSession)artifact.OpenSession(FpgaSession.FunctionalDevice);
        var reference = new InterpreterSession(new ReferenceInterpreter(artifact.Graph, store));
        Assert.That(TextGenerator.Generate(session, ids, 8, SamplingOptions.GreedyDecoding),
            Is.EqualTo(TextGenerator.Generate(reference, ids, 8, SamplingOptions.GreedyDecoding)));
        Assert.That((session.Tally.Prefill.Steps, session.Tally.Decode.Steps), Is.EqualTo((0, ids.Length + 7)));
        Assert.That(() => ArtifactWriter.WriteFpga(m, store, Path.Combine(Scratch, "chunk0"), FpgaDevices.Load("u280"), 32, synthesize: false, chunkTokens: 0),
            Throws.InstanceOf<CodesignException>().With.Message.EqualTo("fpga: a prefill chunk of 0 tokens; it takes 1 to 128"));
    }

    [Test]
    public void A_context_the_model_does_not_have_is_refused_before_anything_is_written()
    {
        Assert.That(() => Compile("fpga-w8a8", maxContext: 0), Throws.InstanceOf<CodesignException>().With.Message.Contain("--max-context 0"));
        Assert.That(() => Compile("fpga-w8a8", maxContext: 1 << 20), Throws.InstanceOf<CodesignException>().With.Message.Contain("the model's"));
        Assert.That(Directory.Exists(Artifact), Is.False);
    }

    [Test]
    public void A_manifest_whose_fpga_part_was_edited_is_refused_naming_what_is_wrong()
    {
        Compile("fpga-w8a8");
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        string original = File.ReadAllText(manifestPath);

        void Expect(Action<JsonObject> edit, params string[] message)
        {
            var json = JsonNode.Parse(original)!;
            edit(json["devices"]!["fpga"]!.AsObject());
            File.WriteAllText(manifestPath, json.ToJsonString());
            var check = message.Skip(1).Aggregate(Throws.InstanceOf<CodesignException>().With.Message.Contain(message[0]), (c, m) => c.And.Message.Contain(m));
            Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(FpgaSession.FunctionalDevice), check);
        }

        Expect(f => f["external_bytes"] = 1L << 40, "external memory of 1099511627776 bytes", "ddr");
        Expect(f => f["cores"]!["shape"]!["cores"] = 3, "devices.fpga.cores: fpga: 3 matrix cores");
        Expect(f => f["cores"]!["code_beats"] = 5, "devices.fpga.cores: fpga: a core code ring of 5 beats");
        Expect(f => f["core_bytes"] = 1L << 40, "core channels of 1099511627776 bytes");
        Expect(f => f["memory"]!.AsArray().First(s => s!["core"]!.GetValue<int>() >= 0)!["core"] = 99, "is for core 99");
        Expect(f => f["memory"]!.AsArray().First(s => s!["core"]!.GetValue<int>() >= 0)!["address"] = f["core_bytes"]!.GetValue<long>(), "is outside core");
        Expect(f => f["buffers"]!["activation_units"] = 1 << 24, "on-chip buffers of 16777216");
        Expect(f => f["program_depth"] = 0, "an instruction memory of 0 instructions");
        Expect(f => f["io"]!["vocab"] = 7, "reads 7 logits a token");
        Expect(f => f["io"]!["logits_address"] = f["external_bytes"]!.GetValue<long>() - 8, "the logits", "is outside the");
        Expect(f => f["memory"]![0]!["offset"] = 1L << 40, "memory.bin: a segment of", "is not inside the");
        Expect(f => f["memory"]![0]!["address"] = -16, "the memory segment at offset 0", "is outside the");
        Expect(f => f["decode"]!.AsArray().RemoveAt(0), "2 decode programs for a maximum context of 48 tokens");
        Expect(f => f["decode"]![1]!["instructions"] = 1 << 30, "decode program 1: 1073741824 instructions");
        Expect(f => f["decode"]![1]!["offset"] = 8, "programs.isa: decode program 1");
        Expect(f => f["prefill"]!.AsArray().RemoveAt(0), "0 prefill-chunk programs for a maximum context of 48 tokens and chunks of 8, which take 1");
        Expect(f => f["prefill"]![0]!["instructions"] = 1 << 30, "prefill-chunk program 0: 1073741824 instructions");
        Expect(f => f["io"]!["chunk_tokens"] = 0, "steps of 0 tokens");
        Expect(f => f["io"]!["chunk_tokens"] = 1 << 20, "the token ids", "is outside the");
        Expect(f => f["decode"]![0]!["patches"]![0]!["word"] = 5, "decode program 0", "patch point 0");
        Expect(f => f["decode"]![0]!["patches"]![0]!["instruction"] = 1 << 20, "decode program 0", "patch point 0");
        Expect(f => { f["decode"]![0]!["patches"]![0]!["repeat"] = 1 << 20; f["decode"]![0]!["patches"]![0]!["stride"] = 1; }, "decode program 0", "patch point 0");
        Expect(f => { f["decode"]![0]!["patches"]![0]!["repeat"] = 2; f["decode"]![0]!["patches"]![0]!["stride"] = 0; }, "decode program 0", "patch point 0");
        Expect(f => f["device"]!["clock_mhz"] = -1, "devices.fpga.device: clock_mhz is -1");
        Expect(f => f["rtl_files"]!.AsArray().RemoveAt(f["rtl_files"]!.AsArray().Select(x => x!.GetValue<string>()).ToList().IndexOf("fpga/rtl/accelerator.sv")),
            "the RTL has no accelerator.sv");
    }
}
