using System.Text.Json;
using Codesign.Runtime.Text;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

public class TokenizerTests
{
    private static readonly Lazy<SentencePieceTokenizer> Tokenizer = new(() => SentencePieceTokenizer.Load(Path.Combine(TestPaths.TinyLlama, "tokenizer.model")));
    private static readonly Lazy<JsonDocument> ReferenceJson = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "reference.json"))));

    public static IEnumerable<TestCaseData> TokenizerCases() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TinyLlama, "reference.json"))).RootElement
            .GetProperty("tokenizer_cases").EnumerateArray()
            .Select((c, i) => new TestCaseData(c.GetProperty("text").GetString(), c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()).SetName($"Tokenizer_case_{i}_matches_SentencePiece"));

    [TestCaseSource(nameof(TokenizerCases))]
    public void Encodes_like_SentencePiece(string text, int[] ids) => Assert.That(Tokenizer.Value.Encode(text), Is.EqualTo(ids));

    [TestCase(0), TestCase(1), TestCase(2), TestCase(3)]
    public void A_prompt_text_encodes_to_the_reference_prompt_ids_with_BOS(int prompt)
    {
        string text = ReferenceJson.Value.RootElement.GetProperty("prompts")[prompt].GetString()!;
        Assert.That(Tokenizer.Value.EncodePrompt(text), Is.EqualTo(TinyLlamaFixture.Ids($"prompt{prompt}.ids")));
    }

    [TestCase(0), TestCase(3)]
    public void The_greedy_continuations_decode_to_the_reference_text(int prompt)
    {
        string expected = ReferenceJson.Value.RootElement.GetProperty($"prompt{prompt}.greedy_text").GetString()!;
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.greedy").Where(id => id > 2).ToArray();
        Assert.That(Tokenizer.Value.Decode(ids).Trim(), Is.EqualTo(expected.Trim()));
    }

    [Test]
    public void Special_ids_come_from_the_model()
    {
        Assert.That((Tokenizer.Value.BosId, Tokenizer.Value.EosId, Tokenizer.Value.VocabSize), Is.EqualTo((1, 2, 2048)));
        Assert.That(Tokenizer.Value.Encode(""), Is.Empty);
    }

    [Test]
    public void Text_round_trips_through_encode_and_decode()
    {
        foreach (var line in File.ReadLines(Path.Combine(TestPaths.TinyLlama, "calibration.txt")).Where(l => l.Trim().Length > 0).Take(200))
            Assert.That(Tokenizer.Value.Decode(Tokenizer.Value.Encode(line)), Is.EqualTo(line));
    }

    [Test]
    public void A_file_that_is_not_a_model_is_a_clear_error()
    {
        string path = Path.Combine(TestPaths.NewScratchDirectory("tok"), "tokenizer.model");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0x01]);
        Assert.That(() => SentencePieceTokenizer.Load(path), Throws.TypeOf<Compiler.Frontends.ModelFormatException>().With.Message.Contain(path));
    }
}
