using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;

namespace Codesign.Runtime.Generation;

/// <summary>The importer's causal-LM signature (tokens, positions → logits), checked once for any device's session.</summary>
public sealed record CausalLmGraph(int VocabSize, int MaxPositions)
{
    public static CausalLmGraph Of(Graph g)
    {
        if (g.FindValue(LlamaGraphBuilder.TokensInput) is null || g.FindValue(LlamaGraphBuilder.PositionsInput) is null
            || g.Outputs.Count != 1 || g.Outputs[0].Name != LlamaGraphBuilder.LogitsOutput)
            throw new CodesignException($"graph @{g.Name} is not a causal LM: expected inputs %tokens, %positions and output %logits");
        return new CausalLmGraph(checked((int)g.Outputs[0].Type[-1].Size),
            g.GetAttribute("max_position_embeddings") is long m ? checked((int)m) : int.MaxValue);
    }

    /// <summary>Positions start..start+count−1, after checking they fit the model.</summary>
    public int[] Positions(int start, int count)
    {
        if (count == 0) throw new ArgumentException("no tokens to run");
        if (start + count > MaxPositions)
            throw new CodesignException($"sequence of {start + count} tokens exceeds the model's {MaxPositions} positions");
        return Enumerable.Range(start, count).ToArray();
    }
}
