namespace Codesign.Runtime.Serving;

/// <summary>
/// How continuous batching runs: at most <see cref="MaxSequences"/> sequences at once; each forward call carries one
/// token of every decoding sequence and fills the rest of <see cref="ChunkTokens"/> with prompt chunks of sequences
/// still in prefill (SARATHI's piggybacking); the KV cache is a pool of <see cref="KvBlocks"/> blocks of
/// <see cref="KvBlockTokens"/> tokens (0 blocks: enough for MaxSequences full contexts).
/// </summary>
public sealed record BatchingOptions
{
    public int MaxSequences { get; init; } = 16;
    public int ChunkTokens { get; init; } = 64;
    public int KvBlocks { get; init; }
    public int KvBlockTokens { get; init; } = 16;

    public void Validate()
    {
        if (MaxSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxSequences), MaxSequences, "at least one sequence");
        if (ChunkTokens < 1) throw new ArgumentOutOfRangeException(nameof(ChunkTokens), ChunkTokens, "at least one token per call");
        if (KvBlocks < 0) throw new ArgumentOutOfRangeException(nameof(KvBlocks), KvBlocks, "not negative");
        if (KvBlockTokens < 1) throw new ArgumentOutOfRangeException(nameof(KvBlockTokens), KvBlockTokens, "at least one token per block");
    }
}
