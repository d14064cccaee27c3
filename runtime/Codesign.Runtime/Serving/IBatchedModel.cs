using Codesign.IR.Semantics;

namespace Codesign.Runtime.Serving;

/// <summary>One sequence's part of a batched forward call: its cache, the position of its first token, its tokens.</summary>
public sealed record BatchSlice(KvCache Cache, int Position, int[] Tokens);

/// <summary>
/// A model that runs several sequences' tokens in one forward call (tokens stacked, each sequence attending to its own
/// cache), so every weight is read once per call however many sequences share it: what continuous batching needs.
/// </summary>
public interface IBatchedModel : IDisposable
{
    int VocabSize { get; }
    int MaxPositions { get; }
    /// <summary>Attention layers, each of which caches every token of a sequence.</summary>
    int AttentionLayers { get; }
    /// <summary>The kv_bits the graph's attention ops cache at (0: f32), which a paged pool may store as codes.</summary>
    int KvBits { get; }
    /// <summary>Logits [Σ tokens × VocabSize], rows in slice order.</summary>
    float[] Forward(IReadOnlyList<BatchSlice> slices);
}
