using Codesign.IR.Diagnostics;

namespace Codesign.IR.Semantics;

/// <summary>
/// The sequences one forward call runs together (continuous batching): their tokens are stacked along the sequence
/// axis in this order, so every op but attention treats them as one longer input; attention splits its rows back
/// per sequence, each appending to and reading its own cache at its own positions.
/// </summary>
public sealed class KvBatch
{
    private readonly (KvCache Cache, int Tokens)[] _entries;
    private readonly bool _whole;

    public KvBatch(IReadOnlyList<(KvCache Cache, int Tokens)> entries)
    {
        if (entries.Count == 0) throw new ArgumentException("a batch needs at least one sequence", nameof(entries));
        foreach (var (_, tokens) in entries) ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1, nameof(entries));
        _entries = [.. entries];
    }

    private KvBatch(KvCache cache)
    {
        _entries = [(cache, 0)];
        _whole = true;
    }

    /// <summary>One sequence owning every row of the call.</summary>
    public static KvBatch Single(KvCache cache) => new(cache);

    public int Sequences => _entries.Length;

    /// <summary>Each sequence's cache with its first row and row count, checked against the rows the op was given.</summary>
    public IEnumerable<(KvCache Cache, int Start, int Count)> Split(int rows, string op)
    {
        if (_whole)
        {
            yield return (_entries[0].Cache, 0, rows);
            yield break;
        }
        int total = _entries.Sum(e => e.Tokens);
        if (total != rows) throw new CodesignException($"{op}: the batch's sequences hold {total} tokens, the op was given {rows} rows");
        int start = 0;
        foreach (var (cache, tokens) in _entries)
        {
            yield return (cache, start, tokens);
            start += tokens;
        }
    }
}
