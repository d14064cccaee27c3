using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;

namespace Codesign.IR.Analysis;

/// <summary>
/// Checks a graph: every operand defined in this graph, no cycles, every op's type rule holds and
/// its declared result types are the inferred ones, outputs exist. Throws naming the node.
/// </summary>
public static class Verifier
{
    public static void Verify(Graph graph)
    {
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (!ReferenceEquals(graph.FindValue(input.Name), input))
                    throw new VerificationException($"{Describe(node)}: operand %{input.Name} is not defined in graph @{graph.Name}");
            }
        }
        if (!GraphAnalysis.IsAcyclic(graph))
            throw new VerificationException($"graph @{graph.Name} has a cycle");

        foreach (var node in graph.Nodes)
        {
            Types.TensorType[] inferred;
            try
            {
                inferred = node.Op.InferTypes(node.Inputs.Select(v => v.Type).ToArray());
            }
            catch (VerificationException e)
            {
                throw new VerificationException($"{Describe(node)}: {e.Message}");
            }
            if (inferred.Length != node.Outputs.Count)
                throw new VerificationException($"{Describe(node)}: produces {inferred.Length} result(s), {node.Outputs.Count} declared");
            for (int i = 0; i < inferred.Length; i++)
            {
                if (!inferred[i].Equals(node.Outputs[i].Type))
                    throw new VerificationException($"{Describe(node)}: result %{node.Outputs[i].Name} is declared {node.Outputs[i].Type} but the op gives {inferred[i]}");
            }
        }
        if (graph.Outputs.Count == 0)
            throw new VerificationException($"graph @{graph.Name} returns nothing");
    }

    private static string Describe(Node node) =>
        $"{node.Op.Mnemonic} defining {string.Join(", ", node.Outputs.Select(v => "%" + v.Name))}";
}
