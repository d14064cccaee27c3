using System.Text.Json.Nodes;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Testing;

namespace Codesign.Compiler.Tests;

public class LlamaConfigTests
{
    private static JsonObject FixtureConfig() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "config.json")))!.AsObject();

    private static LlamaConfig Parse(JsonObject o) => LlamaConfig.Parse(o.ToJsonString(), "config.json");

    [Test]
    public void The_fixture_config_reads_with_rope_parameters()
    {
        var c = Parse(FixtureConfig());
        Assert.That((c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize, c.IntermediateSize),
            Is.EqualTo((256, 4, 8, 4, 32, 2048, 704)));
        Assert.That(c.RopeTheta, Is.EqualTo(10000.0));
        Assert.That(c.RmsNormEps, Is.EqualTo(1e-5));
        Assert.That(c.TieWordEmbeddings, Is.False);
        Assert.That((c.BosTokenId, c.EosTokenId), Is.EqualTo(((int?)1, (int?)2)));
    }

    [Test]
    public void The_older_top_level_rope_theta_is_accepted()
    {
        var o = FixtureConfig();
        o.Remove("rope_parameters");
        o["rope_theta"] = 500000.0;
        Assert.That(Parse(o).RopeTheta, Is.EqualTo(500000.0));
    }

    [Test]
    public void Missing_optional_fields_take_the_transformers_defaults()
    {
        var o = FixtureConfig();
        o.Remove("num_key_value_heads");
        o.Remove("head_dim");
        o.Remove("rope_parameters");
        var c = Parse(o);
        Assert.That((c.NumKvHeads, c.HeadDim, c.RopeTheta), Is.EqualTo((8, 32, 10000.0)));
    }

    [TestCase("hidden_size")]
    [TestCase("num_hidden_layers")]
    [TestCase("vocab_size")]
    [TestCase("intermediate_size")]
    [TestCase("model_type")]
    public void A_missing_required_field_is_named(string field)
    {
        var o = FixtureConfig();
        o.Remove(field);
        var e = Assert.Throws<ModelFormatException>(() => Parse(o))!;
        Assert.That(e.Message, Does.Contain($"missing field '{field}'"));
    }

    [Test]
    public void An_unknown_model_type_is_refused_naming_the_supported_ones()
    {
        var o = FixtureConfig();
        o["model_type"] = "gpt_neox";
        var e = Assert.Throws<ModelFormatException>(() => Parse(o))!;
        Assert.That(e.Message, Does.Contain("unsupported model_type 'gpt_neox'").And.Contain("llama"));
    }

    [TestCase("num_attention_heads", "7", "multiple of num_key_value_heads")]
    [TestCase("hidden_size", "-4", "positive integer")]
    [TestCase("hidden_size", "\"256\"", "positive integer")]
    [TestCase("hidden_act", "\"gelu\"", "hidden_act 'gelu'")]
    [TestCase("attention_bias", "true", "attention_bias")]
    [TestCase("head_dim", "33", "even")]
    [TestCase("tie_word_embeddings", "1", "true or false")]
    public void Invalid_values_are_reported(string field, string json, string message)
    {
        var o = FixtureConfig();
        o[field] = JsonNode.Parse(json);
        var e = Assert.Throws<ModelFormatException>(() => Parse(o))!;
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void Scaled_rope_variants_are_refused_rather_than_run_wrong()
    {
        var o = FixtureConfig();
        o["rope_parameters"] = JsonNode.Parse("{\"rope_theta\": 500000.0, \"rope_type\": \"llama3\"}");
        Assert.That(() => Parse(o), Throws.TypeOf<ModelFormatException>().With.Message.Contain("llama3"));
    }

    [Test]
    public void Broken_json_is_reported_with_the_file()
    {
        var e = Assert.Throws<ModelFormatException>(() => LlamaConfig.Parse("{\"hidden_size\": ", "/m/config.json"))!;
        Assert.That(e.Message, Does.StartWith("/m/config.json: not valid JSON"));
    }
}
