using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Gguf;

namespace Codesign.Runtime.Text;

/// <summary>
/// Between SentencePiece models and GGUF's tokenizer.ggml.* vocabulary. GGUF keeps the pieces, scores,
/// types, special ids and the dummy prefix; the rest of a LLaMA tokenizer.model is fixed (BPE, byte fallback
/// when byte pieces exist, no whitespace clean-up), as llama.cpp assumes too.
/// </summary>
public static class GgufVocabularies
{
    public static GgufVocabulary FromSentencePiece(string tokenizerPath)
    {
        var model = SentencePieceModel.Parse(File.ReadAllBytes(tokenizerPath));
        return new GgufVocabulary(
            model.Pieces.Select(p => p.Piece).ToArray(),
            model.Pieces.Select(p => p.Score).ToArray(),
            model.Pieces.Select(p => (int)p.Type).ToArray(),
            model.UnkId, model.BosId, model.EosId, model.AddDummyPrefix);
    }

    /// <summary>The vocabulary to write into a GGUF file for the model: from its tokenizer.model, else the one its GGUF file carried.</summary>
    public static GgufVocabulary? Of(ImportedModel model) =>
        model.TokenizerPath is { } path ? FromSentencePiece(path) : model.Vocabulary;

    public static SentencePieceModel ToSentencePiece(GgufVocabulary vocabulary) => new()
    {
        Pieces = vocabulary.Tokens.Select((t, i) => new SentencePiece(t, vocabulary.Scores[i], (PieceType)vocabulary.TokenTypes[i])).ToArray(),
        ModelType = SentencePieceModel.BpeModelType,
        ByteFallback = vocabulary.TokenTypes.Contains((int)PieceType.Byte),
        UnkId = vocabulary.UnknownId,
        BosId = vocabulary.BosId,
        EosId = vocabulary.EosId,
        AddDummyPrefix = vocabulary.AddSpacePrefix,
        RemoveExtraWhitespaces = false,
    };

    /// <summary>The model's tokenizer: its tokenizer.model file, else the vocabulary its GGUF file carries, else null.</summary>
    public static SentencePieceTokenizer? TokenizerOf(ImportedModel model) =>
        model.TokenizerPath is { } path ? SentencePieceTokenizer.Load(path)
        : model.Vocabulary is { } vocabulary ? Tokenizer(vocabulary)
        : null;

    /// <summary>The tokenizer a GGUF vocabulary describes.</summary>
    public static SentencePieceTokenizer Tokenizer(GgufVocabulary vocabulary) => new(ToSentencePiece(vocabulary));
}
