using Codesign.Backends.Fpga.Compilation;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>The initial contents of external memory for a plan: each weight's packed bytes at its address and the constants.</summary>
public static class FpgaMemoryImage
{
    public static void Load(IAcceleratorDevice device, Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var w in graph.Weights)
            device.Write(plan.External[w] * FpgaMemoryPlan.Unit, GraphBinding.Weight(w, weights).Data.Span);
        device.Write(plan.Constants.Base * FpgaMemoryPlan.Unit, plan.Constants.Bytes());
    }
}
