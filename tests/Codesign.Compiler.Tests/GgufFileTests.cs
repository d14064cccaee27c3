using System.Buffers.Binary;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.Testing;

namespace Codesign.Compiler.Tests;

public class GgufFileTests : ScratchDirectoryTest
{
    private string WriteSample()
    {
        string path = Path.Combine(Scratch, "sample.gguf");
        var data = new byte[4 * 6];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), i + 0.5f);
        GgufWriter.Write(path, [new("general.architecture", "llama"), new("some.list", new[] { "a", "b" })],
            [new GgufTensor("t", [3, 2], GgmlType.F32, data), new GgufTensor("u", [32], GgmlType.Q8_0, new byte[34])]);
        return path;
    }

    private string Mutated(Action<byte[]> change)
    {
        var bytes = File.ReadAllBytes(WriteSample());
        change(bytes);
        string path = Path.Combine(Scratch, $"bad-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void A_written_file_reads_back_with_aligned_data()
    {
        using var f = GgufFile.Open(WriteSample());
        Assert.That(f.Version, Is.EqualTo(3));
        Assert.That(f.Metadata["general.architecture"], Is.EqualTo("llama"));
        Assert.That(f.Metadata["some.list"], Is.EqualTo(new object[] { "a", "b" }));
        var t = f.Tensor("t");
        Assert.That((t.Dims, t.Type, t.Bytes), Is.EqualTo((new long[] { 3, 2 }, GgmlType.F32, 24L)));
        Assert.That(f.DataStart % 32, Is.Zero);
        Assert.That(f.Tensor("u").Offset, Is.EqualTo(32));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(f.Bytes(t).Span[20..]), Is.EqualTo(5.5f));
    }

    // Header layout: magic 0, version 4, tensor count 8, kv count 16, first key length 24.
    private static IEnumerable<TestCaseData> Hostile()
    {
        yield return new TestCaseData((Action<byte[]>)(b => b[0] = (byte)'X'), "bad magic").SetName("bad magic");
        yield return new TestCaseData((Action<byte[]>)(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 7)), "version 7").SetName("unknown version");
        yield return new TestCaseData((Action<byte[]>)(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), ulong.MaxValue / 2)), "tensor count").SetName("huge tensor count");
        yield return new TestCaseData((Action<byte[]>)(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 1UL << 60)), "metadata count").SetName("huge metadata count");
        yield return new TestCaseData((Action<byte[]>)(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 1UL << 40)), "past the end").SetName("huge string length");
    }

    [TestCaseSource(nameof(Hostile))]
    public void Hostile_headers_fail_with_a_clear_error_and_no_large_allocation(Action<byte[]> change, string expected)
    {
        string path = Mutated(change);
        Assert.That(() => GgufFile.Open(path).Dispose(), Throws.TypeOf<ModelFormatException>().With.Message.Contains(expected).And.Message.Contains(path));
    }

    private static int TensorInfoOffset(byte[] b, string name)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(name);
        for (int i = 8; i < b.Length - needle.Length; i++)
            if (b.AsSpan(i, needle.Length).SequenceEqual(needle) && BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i - 8)) == (ulong)needle.Length)
                return i + needle.Length;
        throw new InvalidOperationException("tensor info not found");
    }

    [Test]
    public void Offsets_past_the_end_misaligned_offsets_unknown_types_and_truncation_are_refused()
    {
        // Tensor info of "u": n_dims (4), dims (8), type (4), offset (8).
        string pastEnd = Mutated(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(TensorInfoOffset(b, "u") + 16), 1 << 20));
        Assert.That(() => GgufFile.Open(pastEnd), Throws.TypeOf<ModelFormatException>().With.Message.Contains("past the end").And.Message.Contains("'u'"));
        string misaligned = Mutated(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(TensorInfoOffset(b, "u") + 16), 33));
        Assert.That(() => GgufFile.Open(misaligned), Throws.TypeOf<ModelFormatException>().With.Message.Contains("not aligned"));
        string unknownType = Mutated(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(TensorInfoOffset(b, "u") + 12), 99));
        Assert.That(() => GgufFile.Open(unknownType), Throws.TypeOf<ModelFormatException>().With.Message.Contains("ggml type 99"));
        string hugeDims = Mutated(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(TensorInfoOffset(b, "t") + 4), 1UL << 62));
        Assert.That(() => GgufFile.Open(hugeDims), Throws.TypeOf<ModelFormatException>().With.Message.Contains("'t'"));
        var full = File.ReadAllBytes(WriteSample());
        // The last tensor (34 bytes) is followed by 30 bytes of alignment padding, which a file may lack.
        for (int cut = 20; cut < full.Length - 30; cut += 37)
        {
            string truncated = Path.Combine(Scratch, $"cut{cut}.gguf");
            File.WriteAllBytes(truncated, full[..cut]);
            Assert.That(() => GgufFile.Open(truncated).Dispose(), Throws.TypeOf<ModelFormatException>(), $"cut at {cut}");
        }
    }

    private GgufVocabulary? VocabularyOf(params KeyValuePair<string, object>[] metadata)
    {
        string path = Path.Combine(Scratch, $"vocab-{Guid.NewGuid():N}.gguf");
        GgufWriter.Write(path, metadata, []);
        using var file = GgufFile.Open(path);
        return GgufVocabulary.Read(file);
    }

    [Test]
    public void A_vocabulary_round_trips_through_its_metadata_keys()
    {
        var written = new GgufVocabulary(["<unk>", "<s>", "</s>", "\u2581a", "<0x41>"], [0, 0, 0, -1.5f, 0], [2, 3, 3, 1, 6], 0, 1, 2, AddSpacePrefix: false);
        var metadata = new List<KeyValuePair<string, object>>();
        written.WriteTo(metadata);
        var read = VocabularyOf([.. metadata])!;
        Assert.That((read.Tokens, read.Scores, read.TokenTypes), Is.EqualTo((written.Tokens, written.Scores, written.TokenTypes)));
        Assert.That((read.UnknownId, read.BosId, read.EosId, read.AddSpacePrefix), Is.EqualTo((0, 1, 2, false)));
        Assert.That(VocabularyOf(new KeyValuePair<string, object>("general.architecture", "llama")), Is.Null);
    }

    private static IEnumerable<TestCaseData> BadVocabularies()
    {
        KeyValuePair<string, object> Tokens(params string[] t) => new("tokenizer.ggml.tokens", t);
        KeyValuePair<string, object> Model(string m) => new("tokenizer.ggml.model", m);
        yield return new TestCaseData(new[] { Model("gpt2"), Tokens("a") }, "tokenizer.ggml.model 'gpt2'").SetName("A_BPE_vocabulary_of_another_family_is_refused");
        yield return new TestCaseData(new[] { Model("llama") }, "tokenizer.ggml.tokens is missing").SetName("A_vocabulary_without_tokens_is_refused");
        yield return new TestCaseData(new[] { Model("llama"), new("tokenizer.ggml.tokens", new[] { 1, 2 }) }, "tokenizer.ggml.tokens[0] has the wrong type").SetName("Tokens_that_are_not_strings_are_refused");
        yield return new TestCaseData(new[] { Model("llama"), Tokens("a", "b"), new("tokenizer.ggml.scores", new[] { 0f }) }, "must match tokenizer.ggml.tokens (2)").SetName("Scores_of_another_length_are_refused");
        yield return new TestCaseData(new[] { Model("llama"), Tokens("a", "b"), new("tokenizer.ggml.token_type", new[] { 1, 9 }) }, "tokenizer.ggml.token_type[1]").SetName("An_unknown_token_type_is_refused");
        yield return new TestCaseData(new[] { Model("llama"), Tokens("a", "b"), new("tokenizer.ggml.bos_token_id", 7u) }, "tokenizer.ggml.bos_token_id 7 is not a token id below 2").SetName("A_special_id_outside_the_vocabulary_is_refused");
    }

    [TestCaseSource(nameof(BadVocabularies))]
    public void Malformed_vocabularies_name_the_key(KeyValuePair<string, object>[] metadata, string expected) =>
        Assert.That(() => VocabularyOf(metadata), Throws.TypeOf<ModelFormatException>().With.Message.Contain(expected));
}
