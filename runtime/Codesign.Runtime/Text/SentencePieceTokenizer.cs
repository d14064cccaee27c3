using Codesign.Compiler.Frontends;
using Microsoft.ML.Tokenizers;

namespace Codesign.Runtime.Text;

/// <summary>
/// A SentencePiece model (tokenizer.model) as LLaMA uses it, through Microsoft.ML.Tokenizers.
/// <see cref="EncodePrompt"/> adds BOS the way LLaMA tokenizers do; <see cref="Encode"/> does not.
/// </summary>
public sealed class SentencePieceTokenizer
{
    private readonly LlamaTokenizer _tokenizer;

    private SentencePieceTokenizer(LlamaTokenizer tokenizer) => _tokenizer = tokenizer;

    public static SentencePieceTokenizer Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return new SentencePieceTokenizer(LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or FormatException
            or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFormatException(path, $"not a readable SentencePiece model: {e.Message}", inner: e);
        }
    }

    public int BosId => _tokenizer.BeginningOfSentenceId;
    public int EosId => _tokenizer.EndOfSentenceId;
    public int VocabSize => _tokenizer.Vocabulary.Count;

    /// <summary>Token ids of the text, without BOS.</summary>
    public IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeToIds(text);

    /// <summary>BOS followed by the text's ids: what a LLaMA prompt looks like.</summary>
    public IReadOnlyList<int> EncodePrompt(string text) => [BosId, .. Encode(text)];

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);
}
