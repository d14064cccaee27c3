namespace Codesign.Runtime.Generation;

/// <summary>How the next token is chosen. Temperature 0 (or Greedy) takes the argmax.</summary>
public sealed record SamplingOptions
{
    public bool Greedy { get; init; } = true;
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of tokens whose probability reaches P; 1 keeps all.</summary>
    public double TopP { get; init; } = 1.0;
    public int Seed { get; init; }

    public static SamplingOptions GreedyDecoding { get; } = new();

    public void Validate()
    {
        if (Greedy) return;
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentException($"temperature must be positive, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be 0 (off) or positive, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top-p must be in (0, 1], got {TopP}");
    }
}
