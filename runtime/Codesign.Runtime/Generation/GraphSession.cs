using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;

namespace Codesign.Runtime.Generation;

/// <summary>
/// A causal-LM session over a graph with the importer's signature (tokens, positions → logits), whatever
/// device runs it: the signature check, positions, the KV cache and reset live here; a device supplies
/// one forward pass.
/// </summary>
public abstract class GraphSession : ICausalLmSession
{
    /// <param name="maxPositions">Fewer positions than the graph declares, where the device holds fewer (a KV region compiled for a context).</param>
    protected GraphSession(Graph g, int maxPositions = int.MaxValue)
    {
        (VocabSize, MaxPositions) = CausalLmGraph.Check(g);
        MaxPositions = Math.Min(MaxPositions, maxPositions);
    }

    public int VocabSize { get; }
    public int Position { get; private set; }
    public int MaxPositions { get; }

    /// <summary>The keys and values seen so far; devices append to it in their attention ops.</summary>
    protected KvCache Cache { get; } = new();

    public float[] Forward(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (Position + tokens.Length > MaxPositions)
            throw new CodesignException($"sequence of {Position + tokens.Length} tokens exceeds the model's {MaxPositions} positions");
        var positions = Enumerable.Range(Position, tokens.Length).ToArray();
        var logits = Run(tokens.ToArray(), positions);
        Position += tokens.Length;
        return logits;
    }

    /// <summary>One forward pass of the graph: logits [tokens × vocab] row-major.</summary>
    protected abstract float[] Run(int[] tokens, int[] positions);

    public void Reset()
    {
        Cache.Clear();
        ResetDevice();
        Position = 0;
    }

    /// <summary>Logits as the array <see cref="Run"/> returns, copied only when the memory is not a whole array.</summary>
    protected static float[] AsArray(ReadOnlyMemory<float> logits) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(logits, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length ? seg.Array : logits.ToArray();

    /// <summary>Forgets device-held state (a KV cache outside <see cref="Cache"/>).</summary>
    protected virtual void ResetDevice() { }
}
