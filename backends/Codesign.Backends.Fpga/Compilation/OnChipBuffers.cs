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
    /// <summary>Units of a score tile: one row of <paramref name="kvTile"/> f32 scores per (token, head).</summary>
    public static int ScoreUnits(int rows, int kvTile) => checked((int)FpgaMemoryPlan.UnitsOf((long)rows * kvTile * 4));

    /// <summary>Units of the online softmax's state: a running max and sum per (token, head).</summary>
    public static int StateUnits(int rows) => checked((int)FpgaMemoryPlan.UnitsOf((long)rows * 2 * 4));

    /// <summary>The activation buffer's units for a step of <paramref name="tokens"/>: the plan's activations, then a score tile and the softmax state.</summary>
    public static long ActivationUnitsFor(Graph graph, FpgaMemoryPlan plan, int tokens, int kvTile)
    {
        int heads = graph.Nodes.Where(n => n.Op is AttentionOp).Select(n => (int)n.Inputs[0].Type.Shape[^2].Size).DefaultIfEmpty(0).Max();
        return (long)plan.OnChipUnits + ScoreUnits(tokens * heads, kvTile) + StateUnits(tokens * heads);
    }

    /// <summary>Where an rms_norm's eps sits in its parameter block: the 16-byte unit after γ.</summary>
    public static int NormEpsOffset(int rowLength) => checked((int)FpgaMemoryPlan.UnitsOf(rowLength * 4L));

    public static OnChipBuffers For(Graph graph, FpgaMemoryPlan plan, int kvTile)
    {
        int tokens = plan.ChunkTokens;
        int kvRowUnits = 0, parameters = 1;
        foreach (var node in graph.Nodes)
        {
            switch (node.Op)
            {
                case AttentionOp attention:
                    kvRowUnits = Math.Max(kvRowUnits, plan.Kv[(int)attention.Layer].RowBytes / FpgaMemoryPlan.Unit);
                    break;
                case RmsNormOp:
                    parameters = Math.Max(parameters, NormEpsOffset(checked((int)FpgaMemoryPlan.PerTokenElements(node.Outputs[0]))) + 1);
                    break;
                case RopeOp:
                    parameters = Math.Max(parameters, tokens * plan.Constants.RopeTable(node).RowBytes / FpgaMemoryPlan.Unit);
                    break;
            }
        }
        return new OnChipBuffers(checked((int)ActivationUnitsFor(graph, plan, tokens, kvTile)), 2 * kvTile * kvRowUnits, parameters);
    }
}
