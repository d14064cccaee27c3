namespace Codesign.Runtime.Generation;

/// <summary>
/// Where one generation's time went: prefill of the prompt up to the first sampled token (time to first token),
/// then each decode step (forward pass of one token and sampling).
/// </summary>
public sealed record GenerationTimings(int PromptTokens, TimeSpan TimeToFirstToken, IReadOnlyList<TimeSpan> DecodeSteps)
{
    public int GeneratedTokens => DecodeSteps.Count + 1;
    public double PrefillTokensPerSecond => PromptTokens / TimeToFirstToken.TotalSeconds;
    public double DecodeTokensPerSecond => DecodeSteps.Count == 0 ? double.NaN : DecodeSteps.Count / DecodeSteps.Sum(s => s.TotalSeconds);
    public TimeSpan DecodeP50 => Percentile(0.50);
    public TimeSpan DecodeP99 => Percentile(0.99);

    /// <summary>Nearest-rank percentile of the decode steps (zero when there were none).</summary>
    public TimeSpan Percentile(double p)
    {
        if (DecodeSteps.Count == 0) return TimeSpan.Zero;
        var sorted = DecodeSteps.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
