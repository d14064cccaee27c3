namespace Codesign.Compiler.Calibration;

/// <summary>
/// Token sequences the calibrating passes run the model on (text from the training distribution,
/// never the evaluation text). Each sequence starts a fresh KV cache.
/// </summary>
public sealed class CalibrationSet(IReadOnlyList<int[]> sequences)
{
    public IReadOnlyList<int[]> Sequences { get; } = sequences.Count > 0 && sequences.All(s => s.Length > 0)
        ? sequences
        : throw new ArgumentException("calibration needs at least one non-empty token sequence");

    public int TokenCount => Sequences.Sum(s => s.Length);

    /// <summary>Cuts a token stream into up to <paramref name="count"/> consecutive windows of <paramref name="length"/> tokens, each led by <paramref name="bos"/> when given.</summary>
    public static CalibrationSet FromTokens(IReadOnlyList<int> tokens, int count, int length, int? bos)
    {
        if (count < 1 || length < 2) throw new ArgumentException("calibration takes at least one sequence of at least 2 tokens");
        int body = bos is null ? length : length - 1;
        var sequences = new List<int[]>();
        for (int start = 0; sequences.Count < count && start + body <= tokens.Count; start += body)
        {
            var seq = tokens.Skip(start).Take(body);
            sequences.Add(bos is { } b ? [b, .. seq] : [.. seq]);
        }
        if (sequences.Count == 0)
            throw new ArgumentException($"calibration text has {tokens.Count} tokens, fewer than one sequence of {length}");
        return new CalibrationSet(sequences);
    }
}
