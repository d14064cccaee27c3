namespace Codesign.Runtime.Generation;

/// <summary>
/// One sequence being run by some device: feed tokens (prefill several, decode one), get logits for each.
/// Positions and the KV cache are the session's state.
/// </summary>
public interface ICausalLmSession
{
    int VocabSize { get; }
    /// <summary>Tokens consumed so far (the position of the next token).</summary>
    int Position { get; }
    int MaxPositions { get; }
    /// <summary>Runs the tokens at positions Position.. and returns their logits, [tokens.Length × VocabSize] row-major.</summary>
    float[] Forward(ReadOnlySpan<int> tokens);
    /// <summary>Forgets everything: next Forward starts at position 0.</summary>
    void Reset();
}
