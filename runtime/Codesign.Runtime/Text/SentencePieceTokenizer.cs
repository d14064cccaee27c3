using Codesign.Compiler.Frontends;
using Microsoft.ML.Tokenizers;

namespace Codesign.Runtime.Text;

/// <summary>
/// A SentencePiece model (tokenizer.model) as LLaMA uses it: Microsoft.ML.Tokenizers' LlamaTokenizer for
/// the vocabulary, special ids and decoding; <see cref="SentencePieceBpeEncoder"/> for encoding, because it
/// reproduces SentencePiece's merge order where LlamaTokenizer's differs.
/// <see cref="EncodePrompt"/> adds BOS the way LLaMA tokenizers do; <see cref="Encode"/> does not.
/// </summary>
public sealed class SentencePieceTokenizer
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly SentencePieceBpeEncoder _encoder;

    private SentencePieceTokenizer(LlamaTokenizer tokenizer, SentencePieceBpeEncoder encoder)
    {
        _tokenizer = tokenizer;
        _encoder = encoder;
    }

    public static SentencePieceTokenizer Load(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var llama = LlamaTokenizer.Create(new MemoryStream(bytes), addBeginOfSentence: false, addEndOfSentence: false);
            return new SentencePieceTokenizer(llama, new SentencePieceBpeEncoder(SentencePieceModel.Parse(bytes)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or FormatException
            or NotSupportedException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFormatException(path, $"not a readable SentencePiece model: {e.Message}", inner: e);
        }
    }

    public int BosId => _tokenizer.BeginningOfSentenceId;
    public int EosId => _tokenizer.EndOfSentenceId;
    public int VocabSize => _tokenizer.Vocabulary.Count;

    /// <summary>Token ids of the text, without BOS.</summary>
    public IReadOnlyList<int> Encode(string text) => _encoder.Encode(text);

    /// <summary>BOS followed by the text's ids: what a LLaMA prompt looks like.</summary>
    public IReadOnlyList<int> EncodePrompt(string text) => [BosId, .. Encode(text)];

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);
}
