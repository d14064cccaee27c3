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

    /// <summary>
    /// The activation buffer's units for a step of <paramref name="tokens"/>: the plan's activations, then the scratch of
    /// attention — on the binary32 engine a score tile and the softmax state, on the matrix cores <see cref="CoreScratch"/>.
    /// </summary>
    public static long ActivationUnitsFor(Graph graph, FpgaMemoryPlan plan, int tokens, int kvTile)
    {
        long units = plan.OnChipUnits;
        foreach (var node in graph.Nodes.Where(n => n.Op is AttentionOp))
        {
            int heads = (int)node.Inputs[0].Type.Shape[^2].Size;
            units = Math.Max(units, plan.Cores.TakesAttention(node)
                ? CoreScratch(plan, node, tokens).End
                : (long)plan.OnChipUnits + ScoreUnits(tokens * heads, kvTile) + StateUnits(tokens * heads));
        }
        return units;
    }

    /// <summary>
    /// Attention on the cores' scratch after the plan's activations (units): whole score rows (of the capacity's words)
    /// for <see cref="CoreAttentionScratch.ScoreTokens"/> tokens at a time — the most of the step's that fit the buffer's
    /// addresses, 0 when not one does — every position's value scales, and the appended rows' scales.
    /// </summary>
    public static CoreAttentionScratch CoreScratch(FpgaMemoryPlan plan, Node attention, int tokens)
    {
        var regions = plan.CoreKv[(int)((AttentionOp)attention.Op).Layer];
        int heads = (int)attention.Inputs[0].Type.Shape[^2].Size, capacity = regions.Layout.Capacity;
        long valueScales = plan.OnChipUnits, appendScales = valueScales + FpgaMemoryPlan.UnitsOf((long)capacity * regions.KvStride * 4);
        long scores = appendScales + FpgaMemoryPlan.UnitsOf((long)tokens * regions.KvStride * 4);
        long rowUnits = FpgaMemoryPlan.UnitsOf((long)heads * capacity * 4);
        int scoreTokens = (int)Math.Clamp((ushort.MaxValue + 1L - scores) / rowUnits, 0, tokens);
        return new CoreAttentionScratch(checked((int)Math.Min(scores, ushort.MaxValue)), (int)valueScales, checked((int)Math.Min(appendScales, ushort.MaxValue)),
            scoreTokens, scores + Math.Max(1, scoreTokens) * rowUnits);
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
                case AttentionOp attention when !plan.Cores.TakesAttention(node):
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
        // attention on the cores needs no KV tiles; the binary32 engine's buffers keep a line (its f32 matrices do not use them)
        return new OnChipBuffers(checked((int)ActivationUnitsFor(graph, plan, tokens, kvTile)), Math.Max(1, 2 * kvTile * kvRowUnits), parameters);
    }
}

/// <summary>Where attention on the cores keeps its scratch in the activation buffer (units), and how many tokens' score rows fit (<see cref="OnChipBuffers.CoreScratch"/>).</summary>
public readonly record struct CoreAttentionScratch(int Scores, int ValueScales, int AppendScales, int ScoreTokens, long End);
