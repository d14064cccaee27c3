using System.Text;

namespace Codesign.Runtime.Text;

/// <summary>
/// SentencePiece's decoding (sentencepiece_processor.cc): control pieces vanish, unknown pieces read " ⁇ ",
/// runs of byte pieces are joined and read as UTF-8 (each invalid byte becomes U+FFFD), ▁ becomes a space,
/// and the first piece loses the leading space the dummy prefix put there.
/// </summary>
public sealed class SentencePieceDecoder(SentencePieceModel model)
{
    private const char SpaceSymbol = '\u2581';
    private const string UnknownSurface = " \u2047 ";
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: false);

    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        bool atStart = true;
        void FlushBytes()
        {
            if (bytes.Count == 0) return;
            Append(StrictUtf8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
        void Append(string surface)
        {
            // Only the first visible piece loses its dummy-prefix space, even when that leaves it empty: "▁" "▁when" reads " when".
            if (atStart && surface.Length > 0 && StripsLeadingSpace && surface[0] == ' ') surface = surface[1..];
            atStart = false;
            text.Append(surface);
        }
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)model.Pieces.Count)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary of {model.Pieces.Count}");
            var piece = model.Pieces[id];
            if (piece.Type == PieceType.Byte && SentencePieceModel.TryParseBytePiece(piece.Piece, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            FlushBytes();
            switch (piece.Type)
            {
                case PieceType.Control: break;
                case PieceType.Unknown: Append(UnknownSurface); break;
                default: Append(piece.Piece.Replace(SpaceSymbol, ' ')); break;
            }
        }
        FlushBytes();
        return text.ToString();
    }

    private bool StripsLeadingSpace => !model.TreatWhitespaceAsSuffix && (model.AddDummyPrefix || model.RemoveExtraWhitespaces);
}
