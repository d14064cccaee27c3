using System.Text.Json.Nodes;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Weights;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.IR.Semantics;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>
/// cpu artifacts (kernels compiled ahead of time into a shared object, weights memory-mapped) against the JIT
/// program and the reference interpreter on the artifact's own graph; and artifacts that are corrupt, edited or
/// built for another CPU, which must be refused with the file named.
/// </summary>
public class CpuArtifactTests : ScratchDirectoryTest
{
    private string Artifact => Path.Combine(Scratch, "artifact");

    private static (ImportedModel Model, IWeightStore Store) Load(string? recipe)
    {
        var m = ModelLoader.Load(TestPaths.TinyLlama);
        return (m, recipe is null ? m.Weights : RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe)));
    }

    private string CompileTinyLlama(string? recipe = null, LutChoice lut = LutChoice.Auto)
    {
        var (m, store) = Load(recipe);
        using (m) ArtifactWriter.WriteCpu(m, store, Artifact, lut, recipe);
        return Artifact;
    }

    [TestCase(null, LutChoice.Never), TestCase("w4g128-gptq", LutChoice.Never), TestCase("w2g32-awq", LutChoice.Auto), TestCase("mixed-precision", LutChoice.Always), TestCase("sparse24-wanda-w4g128-gptq", LutChoice.Never)]
    public void An_artifact_generates_what_the_jit_program_and_the_interpreter_generate_for_its_graph(string? recipe, LutChoice lut)
    {
        var (m, store) = Load(recipe);
        using var _ = m;
        ArtifactWriter.WriteCpu(m, store, Artifact, lut, recipe);
        var artifact = CompiledArtifact.Open(Artifact);
        var ids = TinyLlamaFixture.Ids("prompt1.ids");

        var aot = artifact.OpenSession(threads: 2);
        using var aotOwner = aot as IDisposable;
        using var jit = CpuProgram.Compile(m.Graph, store, threads: 2, lut: lut);
        Assert.That(IR.Text.GraphPrinter.Print(artifact.Graph), Is.EqualTo(IR.Text.GraphPrinter.Print(jit.Graph)), "the artifact stores the graph lowered for the cpu");
        Assert.That(aot.Forward(ids), Is.EqualTo(new CpuSession(jit).Forward(ids)), "the same kernels, compiled ahead of time: identical logits");

        var options = SamplingOptions.GreedyDecoding;
        var tokens = TextGenerator.Generate(aot, ids, 24, options);
        Assert.That(tokens, Is.EqualTo(TextGenerator.Generate(new CpuSession(jit), ids, 24, options)));
        var reference = new InterpreterSession(new ReferenceInterpreter(artifact.Graph, store));
        if (artifact.Manifest.Devices.Cpu!.LutDecisions.Any(d => d.Lut))
        {
            // int8 activation tables round at boundaries that last-bit f32 differences move (CpuDeviceTests): the
            // interpreter agrees to table precision, and greedy paths may part where two logits are that close.
            aot.Reset();
            var (a, r) = (aot.Forward(ids), reference.Forward(ids));
            Assert.That(a.Zip(r, (x, y) => Math.Abs(x - y)).Max() / r.Max(Math.Abs), Is.LessThan(2e-2));
            return;
        }
        Assert.That(tokens, Is.EqualTo(TextGenerator.Generate(reference, ids, 24, options)));
        if (recipe is null)
            Assert.That(tokens, Is.EqualTo(TinyLlamaFixture.Ids("prompt1.greedy").Take(24)), "transformers' greedy tokens");
    }

    [Test]
    public void Loading_maps_the_weight_file_and_the_kernel_library_and_keeps_only_the_forms_the_kernels_read()
    {
        CompileTinyLlama("w2g32-awq", LutChoice.Always);
        var artifact = CompiledArtifact.Open(Artifact);
        var cpu = artifact.Manifest.Devices.Cpu!;
        Assert.That(cpu.Weights.Where(w => w.Form == WeightForm.Quantized), Is.Empty, "every 2-bit layer became LUT-mpGEMM: no dequantizing copy is stored");
        Assert.That(cpu.Weights.Count(w => w.Form == WeightForm.Lut), Is.EqualTo(cpu.LutDecisions.Count(d => d.Lut)));
        using var session = (CpuSession)artifact.OpenSession();
        string maps = File.ReadAllText("/proc/self/maps");
        Assert.That(maps, Does.Contain(Path.GetFullPath(Path.Combine(Artifact, cpu.WeightsFile))), "weights are mapped, not read");
        Assert.That(maps, Does.Contain(Path.GetFullPath(Path.Combine(Artifact, cpu.KernelsFile))), "kernels come from the shared object");
    }

    [Test]
    public void A_changed_byte_in_any_file_is_refused_naming_the_file()
    {
        CompileTinyLlama();
        string weights = Path.Combine(Artifact, "cpu", "weights.bin");
        using (var f = new FileStream(weights, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = f.Length / 2;
            int b = f.ReadByte();
            f.Position--;
            f.WriteByte((byte)(b ^ 1));
        }
        Assert.That(() => CompiledArtifact.Open(Artifact), Throws.TypeOf<CodesignException>()
            .With.Message.Contain(weights).And.Message.Contain("does not match the manifest"));
    }

    [Test]
    public void Missing_files_versions_broken_json_and_paths_outside_the_artifact_are_refused()
    {
        CompileTinyLlama();
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        string original = File.ReadAllText(manifestPath);

        void Expect(Func<JsonNode, JsonNode?> edit, string message)
        {
            var json = JsonNode.Parse(original)!;
            File.WriteAllText(manifestPath, edit(json)?.ToJsonString() ?? original[..(original.Length / 2)]);
            Assert.That(() => CompiledArtifact.Open(Artifact), Throws.TypeOf<CodesignException>().With.Message.Contain(message));
        }

        Expect(j => { j["version"] = 99; return j; }, "artifact version 99");
        Expect(j => { j["format"] = "something-else"; return j; }, "format 'something-else'");
        Expect(_ => null, "manifest.json: not a valid ArtifactManifest");
        Expect(j => { j.AsObject().Remove("files"); return j; }, "not a valid ArtifactManifest");
        Expect(j => { j["graph_file"] = "../../etc/passwd"; j["files"]!["../../etc/passwd"] = new string('0', 64); return j; }, "'../../etc/passwd' lies outside the artifact");
        Expect(j => { j["files"]!["graph.cir"] = new string('0', 64); return j; }, "graph.cir: SHA-256");
        Expect(j => { j["content_hash"] = new string('0', 64); return j; }, "the content hash does not match");
        File.WriteAllText(manifestPath, original);
        File.Delete(Path.Combine(Artifact, "cpu", "kernels.so"));
        Assert.That(() => CompiledArtifact.Open(Artifact), Throws.TypeOf<CodesignException>().With.Message.Contain("kernels.so: missing from the artifact"));
    }

    [Test]
    public void A_weight_index_that_disagrees_with_the_graph_is_refused_before_any_kernel_runs()
    {
        CompileTinyLlama();
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        var json = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var buffer = json["devices"]!["cpu"]!["weights"]![0]!["buffers"]![0]!;
        buffer["bytes"] = buffer["bytes"]!.GetValue<long>() + 4;
        File.WriteAllText(manifestPath, json.ToJsonString());
        var artifact = CompiledArtifact.Open(Artifact);
        Assert.That(() => artifact.OpenSession(), Throws.TypeOf<CodesignException>().With.Message.Contain("weights.bin: weight '").And.Message.Contain("needs 'data' of"));

        buffer["bytes"] = buffer["bytes"]!.GetValue<long>() - 4;
        buffer["offset"] = 1L << 40;
        File.WriteAllText(manifestPath, json.ToJsonString());
        Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(), Throws.TypeOf<CodesignException>().With.Message.Contain("misaligned or outside"));
    }

    [Test]
    public void Sparse_weights_whose_indices_leave_the_matrix_are_refused()
    {
        CompileTinyLlama("sparse24-magnitude");
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        var json = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var forms = json["devices"]!["cpu"]!["weights"]!.AsArray();
        string form = CpuFeatures.Has("avx2") ? "half_sparse" : "sparse_rows";
        var sparse = forms.First(w => w!["form"]!.GetValue<string>() == form)!;
        // Point the indices (or columns) at the f32 values: their bytes are indices far outside any window or K.
        var buffers = sparse["buffers"]!.AsArray();
        buffers[^2]!["offset"] = buffers[^1]!["offset"]!.GetValue<long>();
        File.WriteAllText(manifestPath, json.ToJsonString());
        Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(), Throws.TypeOf<CodesignException>()
            .With.Message.Contain($"weight '{sparse["key"]}' (").And.Message.Contain("outside"));
    }

    [Test]
    public void Kernels_built_for_an_extension_this_cpu_lacks_are_refused_before_they_are_loaded()
    {
        string? lacking = CpuFeatures.Checkable.FirstOrDefault(f => !CpuFeatures.Has(f));
        if (lacking is null) Assert.Ignore("this CPU has every extension the check knows");
        CompileTinyLlama();
        string manifestPath = Path.Combine(Artifact, ArtifactManifest.FileName);
        var json = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        json["devices"]!["cpu"]!["target"]!["features"]!.AsArray().Add(lacking);
        File.WriteAllText(manifestPath, json.ToJsonString());
        Assert.That(() => CompiledArtifact.Open(Artifact).OpenSession(), Throws.TypeOf<CodesignException>()
            .With.Message.Contain($"use {lacking}, which this CPU lacks"));
    }

    [Test]
    public void Compiling_over_a_directory_that_is_not_an_artifact_is_refused_and_an_old_artifact_is_replaced()
    {
        Directory.CreateDirectory(Artifact);
        string precious = Path.Combine(Artifact, "notes.txt");
        File.WriteAllText(precious, "keep me");
        var (m, store) = Load(null);
        using (m)
        {
            Assert.That(() => ArtifactWriter.WriteCpu(m, store, Artifact), Throws.TypeOf<CodesignException>().With.Message.Contain("not overwriting"));
            Assert.That(File.ReadAllText(precious), Is.EqualTo("keep me"));
            File.Delete(precious);
            ArtifactWriter.WriteCpu(m, store, Artifact);
            string first = CompiledArtifact.Open(Artifact).Manifest.ContentHash;
            ArtifactWriter.WriteCpu(m, RecipeRunner.Apply(m, TestPaths.ExampleRecipe("w8-rtn")), Artifact);
            Assert.That(CompiledArtifact.Open(Artifact).Manifest.ContentHash, Is.Not.EqualTo(first));
        }
        Assert.That(Directory.GetDirectories(Scratch), Is.EqualTo(new[] { Artifact }), "no staging or old directories are left behind");
    }
}
