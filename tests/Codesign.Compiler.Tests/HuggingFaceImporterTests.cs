using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Text;
using Codesign.Testing;

namespace Codesign.Compiler.Tests;

public class HuggingFaceImporterTests : ScratchDirectoryTest
{
    /// <summary>A copy of the fixture checkpoint with the config edited and only the tensors <paramref name="keep"/> accepts.</summary>
    private string CopyFixture(Action<JsonObject>? editConfig = null, Func<string, bool>? keep = null)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "config.json")))!.AsObject();
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(Scratch, "config.json"), config.ToJsonString());
        using var source = SafetensorsFile.Open(Path.Combine(TestPaths.TinyLlama, "model.safetensors"));
        var tensors = source.Entries.OrderBy(e => e.Begin).Where(e => keep?.Invoke(e.Name) ?? true)
            .Select(e => new SafetensorsTensor(e.Name, e.DType, e.Shape, source.Bytes(e.Name).ToArray())).ToList();
        SafetensorsWriter.Write(Path.Combine(Scratch, "model.safetensors"), tensors);
        return Scratch;
    }

    [Test]
    public void The_fixture_imports_into_a_verified_graph_whose_text_form_round_trips()
    {
        using var model = ModelLoader.Load(TestPaths.TinyLlama);
        var g = model.Graph;
        Assert.That(g.Name, Is.EqualTo("tiny_llama_a"));
        Assert.That(g.Nodes.Count(n => n.Op.Mnemonic == "nn.attention"), Is.EqualTo(4));
        Assert.That(g.Weights.Sum(w => w.Type.ElementCount().Known), Is.EqualTo(4_000_000));
        string text = GraphPrinter.Print(g);
        Assert.That(GraphPrinter.Print(GraphParser.Parse(text)), Is.EqualTo(text));
        Assert.That(model.TokenizerPath, Does.EndWith("tokenizer.model"));
    }

    [Test]
    public void Tied_embeddings_need_no_lm_head_and_reuse_the_embedding()
    {
        string dir = CopyFixture(c => c["tie_word_embeddings"] = true,
            name => name != "lm_head.weight");
        using var model = HuggingFaceImporter.Import(dir);
        var logits = model.Graph.Outputs[0].Producer!;
        Assert.That(logits.Inputs[1].WeightKey, Is.EqualTo("model.embed_tokens.weight"));
        Assert.That(model.Graph.Weights.Any(w => w.WeightKey == "lm_head.weight"), Is.False);
    }

    [Test]
    public void A_missing_tensor_is_named_with_its_expected_shape()
    {
        string dir = CopyFixture(keep: name => name != "model.layers.2.mlp.up_proj.weight");
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceImporter.Import(dir))!;
        Assert.That(e.Tensor, Is.EqualTo("model.layers.2.mlp.up_proj.weight"));
        Assert.That(e.Message, Does.Contain("[704, 256]"));
    }

    [Test]
    public void A_tensor_shape_that_disagrees_with_the_config_is_named()
    {
        string dir = CopyFixture(c => c["intermediate_size"] = 512);
        var e = Assert.Throws<ModelFormatException>(() => HuggingFaceImporter.Import(dir))!;
        Assert.That(e.Tensor, Is.EqualTo("model.layers.0.mlp.gate_proj.weight"));
        Assert.That(e.Message, Does.Contain("[704, 256]").And.Contain("[512, 256]"));
    }

    [Test]
    public void AScratchectory_without_weights_or_config_is_reported()
    {
        Assert.That(() => ModelLoader.Load(Scratch), Throws.TypeOf<ModelFormatException>().With.Message.Contain("no config.json"));
        File.Copy(Path.Combine(TestPaths.TinyLlama, "config.json"), Path.Combine(Scratch, "config.json"));
        Assert.That(() => ModelLoader.Load(Scratch), Throws.TypeOf<ModelFormatException>().With.Message.Contain("no model.safetensors"));
    }

    [Test]
    public void A_shard_index_pointing_outside_theScratchectory_is_refused()
    {
        File.Copy(Path.Combine(TestPaths.TinyLlama, "config.json"), Path.Combine(Scratch, "config.json"));
        File.WriteAllText(Path.Combine(Scratch, "model.safetensors.index.json"), "{\"weight_map\": {\"lm_head.weight\": \"../../etc/passwd\"}}");
        Assert.That(() => ModelLoader.Load(Scratch), Throws.TypeOf<ModelFormatException>().With.Message.Contain("not a file name"));
    }

    [Test]
    public void A_shard_missing_a_listed_tensor_is_reported()
    {
        File.Copy(Path.Combine(TestPaths.TinyLlama, "config.json"), Path.Combine(Scratch, "config.json"));
        SafetensorsWriter.Write(Path.Combine(Scratch, "a.safetensors"), [SafetensorsWriter.Float32("x", [1], [0f])]);
        File.WriteAllText(Path.Combine(Scratch, "model.safetensors.index.json"), "{\"weight_map\": {\"lm_head.weight\": \"a.safetensors\"}}");
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(Scratch))!;
        Assert.That(e.Tensor, Is.EqualTo("lm_head.weight"));
    }
}
