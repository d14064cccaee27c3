
namespace Codesign.Runtime.Text;

/// <summary>
/// Streams decoded text token by token. SentencePiece decoding is not per-token (leading spaces, bytes
/// that form one UTF-8 character), so it decodes the whole sequence and emits what is new, holding back
/// text that ends in an incomplete character.
/// </summary>
public sealed class IncrementalDetokenizer(SentencePieceTokenizer tokenizer)
{
    private readonly List<int> _ids = [];
    private int _emitted;

    public string Push(int token)
    {
        _ids.Add(token);
        string text = tokenizer.Decode(_ids);
        if (text.EndsWith('\uFFFD')) return "";
        return Take(text);
    }

    public string Flush() => Take(tokenizer.Decode(_ids));

    private string Take(string text)
    {
        if (text.Length <= _emitted) return "";
        string delta = text[_emitted..];
        _emitted = text.Length;
        return delta;
    }
}
