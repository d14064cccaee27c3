using Codesign.Compiler.Frontends;

namespace Codesign.Runtime.Text;

/// <summary>
/// A SentencePiece BPE tokenizer as LLaMA uses it, from a tokenizer.model file or from the vocabulary a GGUF
/// file carries. <see cref="EncodePrompt"/> adds BOS the way LLaMA tokenizers do; <see cref="Encode"/> does not.
/// </summary>
public sealed class SentencePieceTokenizer
{
    private readonly SentencePieceModel _model;
    private readonly SentencePieceBpeEncoder _encoder;
    private readonly SentencePieceDecoder _decoder;

    public SentencePieceTokenizer(SentencePieceModel model)
    {
        _model = model;
        _encoder = new SentencePieceBpeEncoder(model);
        _decoder = new SentencePieceDecoder(model);
    }

    public static SentencePieceTokenizer Load(string path)
    {
        try
        {
            return new SentencePieceTokenizer(SentencePieceModel.Parse(File.ReadAllBytes(path)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFormatException(path, $"not a readable SentencePiece model: {e.Message}", inner: e);
        }
    }

    public int BosId => _model.BosId;
    public int EosId => _model.EosId;
    public int VocabSize => _model.Pieces.Count;

    /// <summary>Token ids of the text, without BOS.</summary>
    public IReadOnlyList<int> Encode(string text) => _encoder.Encode(text);

    /// <summary>BOS followed by the text's ids: what a LLaMA prompt looks like.</summary>
    public IReadOnlyList<int> EncodePrompt(string text) => [BosId, .. Encode(text)];

    public string Decode(IEnumerable<int> ids) => _decoder.Decode(ids);
}
