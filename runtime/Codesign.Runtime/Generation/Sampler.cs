namespace Codesign.Runtime.Generation;

/// <summary>Picks tokens from logits: argmax, or temperature / top-k / top-p sampling from a seeded generator.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;

    public Sampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _random = new Random(options.Seed);
    }

    /// <summary>The index of the largest logit; the first one on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.Greedy) return ArgMax(logits);
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var l = logits.ToArray();
        Array.Sort(order, (a, b) => l[b].CompareTo(l[a]) is var c && c != 0 ? c : a.CompareTo(b));
        int keep = _options.TopK > 0 ? Math.Min(_options.TopK, order.Length) : order.Length;
        double max = l[order[0]];
        var probs = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) sum += probs[i] = Math.Exp((l[order[i]] - max) / _options.Temperature);
        if (_options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += probs[i] / sum;
                if (cumulative >= _options.TopP) { keep = i + 1; break; }
            }
            sum = probs.Take(keep).Sum();
        }
        double u = _random.NextDouble() * sum;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[i];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
