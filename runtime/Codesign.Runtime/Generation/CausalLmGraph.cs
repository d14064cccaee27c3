using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;

namespace Codesign.Runtime.Generation;

/// <summary>
/// The importer's causal-LM signature (inputs %tokens and %positions, output %logits) as every runner of a whole
/// model sees it: the check, the vocabulary and context sizes it implies, and the inputs of one forward call.
/// </summary>
public static class CausalLmGraph
{
    /// <summary>Vocabulary size and positions (int.MaxValue when the graph declares none); refuses any other graph.</summary>
    public static (int VocabSize, int MaxPositions) Check(Graph g)
    {
        if (g.FindValue(LlamaGraphBuilder.TokensInput) is null || g.FindValue(LlamaGraphBuilder.PositionsInput) is null
            || g.Outputs.Count != 1 || g.Outputs[0].Name != LlamaGraphBuilder.LogitsOutput)
            throw new CodesignException($"graph @{g.Name} is not a causal LM: expected inputs %tokens, %positions and output %logits");
        return (checked((int)g.Outputs[0].Type[-1].Size), g.GetAttribute("max_position_embeddings") is long m ? checked((int)m) : int.MaxValue);
    }

    /// <summary>The inputs of one forward call over <paramref name="tokens"/> at <paramref name="positions"/>.</summary>
    public static Dictionary<string, HostTensor> Inputs(int[] tokens, int[] positions) => new(StringComparer.Ordinal)
    {
        [LlamaGraphBuilder.TokensInput] = HostTensor.I32([tokens.Length], tokens),
        [LlamaGraphBuilder.PositionsInput] = HostTensor.I32([positions.Length], positions),
    };
}
