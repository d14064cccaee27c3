using Codesign.IR.Graphs;
using Codesign.IR.Ops;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// Sizes of the accelerator's on-chip buffers for a graph, in 16-byte units: the activations (the plan's
/// activations, then a score tile and the online softmax's state), the key and the value tile buffers (two tiles
/// each, double-buffered), and the parameter buffer (the largest γ with its eps, a step's rope rows, a scale).
/// The simulator sizes its memories from these and the RTL takes them as parameters.
/// </summary>
public sealed record OnChipBuffers(int ActivationUnits, int KvUnits, int ParameterUnits)
{
    public static OnChipBuffers For(Graph graph, FpgaMemoryPlan plan, int kvTile)
    {
        int tokens = plan.ChunkTokens;
        int heads = 0, kvRowUnits = 0, parameters = 1;
        foreach (var node in graph.Nodes)
        {
            switch (node.Op)
            {
                case AttentionOp attention:
                    heads = Math.Max(heads, (int)node.Inputs[0].Type.Shape[^2].Size);
                    kvRowUnits = Math.Max(kvRowUnits, plan.Kv[(int)attention.Layer].RowBytes / FpgaMemoryPlan.Unit);
                    break;
                case RmsNormOp:
                    parameters = Math.Max(parameters, checked((int)FpgaMemoryPlan.UnitsOf(FpgaMemoryPlan.PerTokenElements(node.Outputs[0]) * 4) + 1));
                    break;
                case RopeOp:
                    parameters = Math.Max(parameters, tokens * plan.Constants.RopeTable(node).RowBytes / FpgaMemoryPlan.Unit);
                    break;
            }
        }
        int rows = tokens * heads;
        return new OnChipBuffers(plan.OnChipUnits + InstructionCompiler.ScoreUnits(rows, kvTile) + InstructionCompiler.StateUnits(rows),
            2 * kvTile * kvRowUnits, parameters);
    }
}
