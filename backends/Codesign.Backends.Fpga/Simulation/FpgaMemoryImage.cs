using Codesign.Backends.Fpga.Compilation;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>The initial contents of external memory for a plan: each weight's packed bytes at its address and the constants.</summary>
public static class FpgaMemoryImage
{
    /// <summary>The image's pieces, by byte address; the rest of memory (KV regions, I/O) starts as zeros.</summary>
    public static IEnumerable<(long Address, ReadOnlyMemory<byte> Data)> Segments(Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var w in graph.Weights)
            yield return (plan.External[w] * FpgaMemoryPlan.Unit, GraphBinding.Weight(w, weights).Data);
        yield return (plan.Constants.Base * FpgaMemoryPlan.Unit, plan.Constants.Bytes());
    }

    public static void Load(IAcceleratorDevice device, Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var (address, data) in Segments(graph, weights, plan)) device.Write(address, data.Span);
    }
}
