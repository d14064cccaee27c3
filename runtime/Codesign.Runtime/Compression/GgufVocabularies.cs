using Codesign.Compiler.Frontends.Gguf;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Compression;

/// <summary>The tokenizer.ggml.* vocabulary of a SentencePiece tokenizer.model.</summary>
public static class GgufVocabularies
{
    public static GgufVocabulary FromSentencePiece(string tokenizerPath)
    {
        var model = SentencePieceModel.Parse(File.ReadAllBytes(tokenizerPath));
        return new GgufVocabulary(
            model.Pieces.Select(p => p.Piece).ToArray(),
            model.Pieces.Select(p => p.Score).ToArray(),
            model.Pieces.Select(p => (int)p.Type).ToArray(),
            model.UnkId);
    }
}
