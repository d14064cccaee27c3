using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Evaluation;

public sealed record PerplexityResult(double Perplexity, double MeanNll, long ScoredTokens, int Windows);

/// <summary>
/// Perplexity over non-overlapping windows: each window starts with an empty cache and scores its tokens
/// 1..W-1 given the tokens before them in the same window (the fixture's reference.json definition).
/// A final shorter window is scored too when it has at least two tokens.
/// </summary>
public static class PerplexityEvaluator
{
    public static PerplexityResult Evaluate(ICausalLmSession session, IReadOnlyList<int> tokens, int window, IProgress<double>? progress = null)
    {
        if (window < 2) throw new ArgumentOutOfRangeException(nameof(window), window, "a window needs at least two tokens");
        if (window > session.MaxPositions) throw new ArgumentOutOfRangeException(nameof(window), window, $"the model has {session.MaxPositions} positions");
        double nll = 0;
        long scored = 0;
        int windows = 0;
        int vocab = session.VocabSize;
        for (int start = 0; start + 1 < tokens.Count; start += window)
        {
            int length = Math.Min(window, tokens.Count - start);
            if (length < 2) break;
            var ids = new int[length];
            for (int i = 0; i < length; i++) ids[i] = tokens[start + i];
            session.Reset();
            var logits = session.Forward(ids);
            for (int i = 0; i + 1 < length; i++)
                nll -= LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), ids[i + 1]);
            scored += length - 1;
            windows++;
            progress?.Report(Math.Min(1.0, (double)(start + length) / tokens.Count));
        }
        if (scored == 0) throw new ArgumentException("fewer than two tokens: nothing to score", nameof(tokens));
        double mean = nll / scored;
        return new PerplexityResult(Math.Exp(mean), mean, scored, windows);
    }

    /// <summary>log softmax(logits)[target], in f64.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        if ((uint)target >= (uint)logits.Length)
            throw new ArgumentOutOfRangeException(nameof(target), target, $"token id outside the vocabulary of {logits.Length}");
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return logits[target] - max - Math.Log(sum);
    }
}
