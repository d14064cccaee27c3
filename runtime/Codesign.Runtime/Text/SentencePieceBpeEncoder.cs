using System.Text;

namespace Codesign.Runtime.Text;

/// <summary>
/// SentencePiece's BPE encoding, merge for merge: start from characters, repeatedly merge the adjacent
/// pair whose concatenation is the highest-scoring piece, the leftmost pair on equal scores (the order of
/// bpe_model.cc's agenda); pieces not in the vocabulary fall back to byte pieces &lt;0xNN&gt;.
/// Microsoft.ML.Tokenizers breaks score ties differently on runs of equal pairs (e.g. five spaces), so
/// its ids differ from SentencePiece's there; this encoder reproduces SentencePiece.
/// </summary>
public sealed class SentencePieceBpeEncoder
{
    private const char SpaceSymbol = '\u2581';
    private readonly SentencePieceModel _model;
    private readonly Dictionary<string, int> _mergeable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);
    private readonly int[] _byteIds = new int[256];

    public SentencePieceBpeEncoder(SentencePieceModel model)
    {
        if (model.ModelType != SentencePieceModel.BpeModelType)
            throw new NotSupportedException($"SentencePiece model type {model.ModelType} is not BPE");
        if (model.PrecompiledCharsMapLength != 0)
            throw new NotSupportedException("SentencePiece models with a precompiled normalisation map are not supported");
        if (model.TreatWhitespaceAsSuffix)
            throw new NotSupportedException("SentencePiece models that treat whitespace as a suffix are not supported");
        _model = model;
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < model.Pieces.Count; id++)
        {
            var p = model.Pieces[id];
            bool mergeable = p.Type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
            (mergeable ? _mergeable : _reserved).TryAdd(p.Piece, id);
            if (p.Type == PieceType.Byte && SentencePieceModel.TryParseBytePiece(p.Piece, out byte b))
                _byteIds[b] = id;
        }
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        string normalized = Normalize(text);
        if (normalized.Length == 0) return ids;

        // One symbol per Unicode character (surrogate pairs stay together).
        var pieces = new List<string>();
        for (int i = 0; i < normalized.Length; i += char.IsSurrogatePair(normalized, i) ? 2 : 1)
            pieces.Add(normalized.Substring(i, char.IsSurrogatePair(normalized, i) ? 2 : 1));
        int n = pieces.Count;
        var piece = pieces.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }

        // Max-score first; on ties the smaller left index first.
        var agenda = new PriorityQueue<(int Left, int Right, int Length), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));
        void Consider(int left, int right)
        {
            if (left < 0 || right < 0) return;
            string merged = piece[left] + piece[right];
            if (_mergeable.TryGetValue(merged, out int id))
                agenda.Enqueue((left, right, merged.Length), (_model.Pieces[id].Score, left));
        }
        for (int i = 1; i < n; i++) Consider(i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            // Stale pair: one side already merged into something else.
            if (piece[top.Left].Length == 0 || piece[top.Right].Length == 0 || piece[top.Left].Length + piece[top.Right].Length != top.Length)
                continue;
            if (next[top.Left] != top.Right) continue;
            piece[top.Left] += piece[top.Right];
            piece[top.Right] = "";
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            Consider(prev[top.Left], top.Left);
            Consider(top.Left, next[top.Left]);
        }

        for (int i = 0; i >= 0; i = next[i]) Emit(piece[i], ids);
        return ids;
    }

    private void Emit(string piece, List<int> ids)
    {
        if (_mergeable.TryGetValue(piece, out int id) && _model.Pieces[id].Type != PieceType.Unused)
        {
            ids.Add(id);
            return;
        }
        if (_reserved.TryGetValue(piece, out id) && _model.Pieces[id].Type is not (PieceType.Control or PieceType.Byte))
        {
            ids.Add(id);
            return;
        }
        if (!_model.ByteFallback)
        {
            ids.Add(_model.UnkId);
            return;
        }
        foreach (byte b in Encoding.UTF8.GetBytes(piece))
            ids.Add(_byteIds[b] >= 0 ? _byteIds[b] : _model.UnkId);
    }

    /// <summary>SentencePiece's normaliser without a charsmap: optional whitespace clean-up, dummy prefix, spaces to ▁.</summary>
    private string Normalize(string text)
    {
        if (_model.RemoveExtraWhitespaces)
            text = string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (text.Length == 0) return "";
        if (_model.AddDummyPrefix) text = " " + text;
        return _model.EscapeWhitespaces ? text.Replace(' ', SpaceSymbol) : text;
    }
}
