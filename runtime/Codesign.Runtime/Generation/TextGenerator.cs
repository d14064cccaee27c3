namespace Codesign.Runtime.Generation;

/// <summary>The token loop: prefill the prompt, then decode one token at a time until the limit, EOS or the context end.</summary>
public static class TextGenerator
{
    /// <summary>Generates up to <paramref name="maxTokens"/> tokens after <paramref name="prompt"/>, calling <paramref name="onToken"/> as each appears.</summary>
    public static List<int> Generate(ICausalLmSession session, IReadOnlyList<int> prompt, int maxTokens, SamplingOptions options,
        int? eosTokenId = null, Action<int>? onToken = null, CancellationToken cancellation = default) =>
        GenerateTimed(session, prompt, maxTokens, options, eosTokenId, onToken, cancellation).Tokens;

    /// <summary>As <see cref="Generate"/>, also timing prefill (to the first token) and every decode step.</summary>
    public static (List<int> Tokens, GenerationTimings? Timings) GenerateTimed(ICausalLmSession session, IReadOnlyList<int> prompt, int maxTokens, SamplingOptions options,
        int? eosTokenId = null, Action<int>? onToken = null, CancellationToken cancellation = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var sampler = new Sampler(options);
        var generated = new List<int>();
        session.Reset();
        if (maxTokens == 0) return (generated, null);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var logits = session.Forward(prompt.ToArray());
        int vocab = session.VocabSize;
        var last = logits.AsSpan((prompt.Count - 1) * vocab, vocab);
        TimeSpan firstToken = TimeSpan.Zero;
        var steps = new List<TimeSpan>();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            int token = sampler.Next(last);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            if (generated.Count == 0) firstToken = elapsed;
            else steps.Add(elapsed);
            generated.Add(token);
            onToken?.Invoke(token);
            if (generated.Count >= maxTokens || token == eosTokenId || session.Position >= session.MaxPositions) break;
            start = System.Diagnostics.Stopwatch.GetTimestamp();
            last = session.Forward([token]);
        }
        return (generated, new GenerationTimings(prompt.Count, firstToken, steps));
    }
}
