using Codesign.Backends.Fpga.Compilation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// Where the host puts a step's inputs and finds its output in external memory (byte addresses in the plan's I/O
/// region), a row per token of the step, up to <see cref="ChunkTokens"/> rows: the token ids, the positions for a
/// graph whose rope takes positions, and <see cref="Vocab"/> f32 logits a token.
/// </summary>
public sealed record FpgaIo(long TokenAddress, long? PositionAddress, long LogitsAddress, int Vocab, int ChunkTokens = 1)
{
    public static FpgaIo For(Graph graph, FpgaMemoryPlan plan)
    {
        var tokens = graph.Nodes.FirstOrDefault(n => n.Op is EmbeddingOp)?.Inputs[0]
            ?? throw new CodesignException($"fpga: graph @{graph.Name} has no embedding to feed token ids to");
        var positions = graph.Nodes.FirstOrDefault(n => n.Op is RopeOp)?.Inputs[1];
        if (graph.Outputs.Count != 1) throw new CodesignException($"fpga: graph @{graph.Name} has {graph.Outputs.Count} outputs; a decode step returns the logits");
        var logits = graph.Outputs[0];
        return new FpgaIo(plan.Io[tokens] * FpgaMemoryPlan.Unit, positions is null ? null : plan.Io[positions] * FpgaMemoryPlan.Unit,
            plan.Io[logits] * FpgaMemoryPlan.Unit, checked((int)FpgaMemoryPlan.PerTokenElements(logits)), plan.ChunkTokens);
    }
}
