using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// A compressed graph compiled for the accelerator: where its data lives (<see cref="FpgaMemoryPlan"/>), its
/// length-adaptive decode and prefill programs, the on-chip buffers they need, and the RTL sized for those.
/// Steps take one token (<see cref="FpgaStepRunner"/>), so the plan is for one-token chunks.
/// </summary>
public sealed record FpgaCompilation(Graph Graph, IWeightStore Store, FpgaMemoryPlan Plan, LengthAdaptivePrograms Programs, OnChipBuffers Buffers)
{
    /// <param name="lutEngine">Put the layers the LUT-mpGEMM engine takes on it (<see cref="LutEngineLowering"/>); the record's graph is then the lowered one.</param>
    public static FpgaCompilation Compile(Graph graph, IWeightStore store, int maxContext, bool lutEngine = false)
    {
        if (lutEngine) graph = LutEngineLowering.Apply(graph);
        var plan = FpgaMemoryPlan.For(graph, w => GraphBinding.Weight(w, store).Data.Length, maxContext, chunkTokens: 1);
        return new FpgaCompilation(graph, store, plan, LengthAdaptivePrograms.Compile(graph, plan),
            OnChipBuffers.For(graph, plan, LengthAdaptivePrograms.DecodeBucket));
    }

    public long ExternalBytes => Plan.ExternalUnits * FpgaMemoryPlan.Unit;

    public FpgaIo Io => FpgaIo.For(Graph, Plan);

    /// <summary>The accelerator with these buffers and an instruction memory that holds the longest decode program.</summary>
    public AcceleratorRtl Rtl => AcceleratorRtl.For(Buffers, Programs.Decode.Max(p => p.Instructions.Count));

    /// <summary>Writes the model's memory image into <paramref name="device"/> and returns the host's step runner over it.</summary>
    public FpgaStepRunner Runner(IAcceleratorDevice device)
    {
        FpgaMemoryImage.Load(device, Graph, Store, Plan);
        return new FpgaStepRunner(Io, Programs, device);
    }
}
