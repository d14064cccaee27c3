using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Values;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// A compressed graph compiled for the accelerator: where its data lives (<see cref="FpgaMemoryPlan"/>), its
/// length-adaptive decode and prefill-chunk programs, the on-chip buffers they need, and the RTL sized for those.
/// A step is one token (decode) or a prefill chunk of up to the plan's chunk of tokens (<see cref="FpgaStepRunner"/>).
/// </summary>
public sealed record FpgaCompilation(Graph Graph, IWeightStore Store, FpgaMemoryPlan Plan, LengthAdaptivePrograms Programs, OnChipBuffers Buffers)
{
    /// <summary>The prefill chunk unless a caller chooses: prompts go through 8 tokens a step.</summary>
    public const int DefaultChunkTokens = 8;

    /// <param name="lutEngine">Put the layers the LUT-mpGEMM engine takes on it (<see cref="LutEngineLowering"/>); the record's graph is then the lowered one.</param>
    /// <param name="chunkTokens">The most tokens a prefill chunk takes; 1 compiles decode programs only (prompts go a token a step).</param>
    /// <param name="shape">The matrix cores; by default what fills <paramref name="device"/> (<see cref="CoreFit"/>), or one core of 16-byte beats without one.</param>
    /// <param name="device">The device the design must fit: the cores' estimated resources are checked against it.</param>
    public static FpgaCompilation Compile(Graph graph, IWeightStore store, int maxContext, bool lutEngine = false, int chunkTokens = DefaultChunkTokens,
        AcceleratorShape? shape = null, FpgaDevice? device = null)
    {
        if (chunkTokens is < 1 or > LengthAdaptivePrograms.PrefillBucket)
            throw new CodesignException($"fpga: a prefill chunk of {chunkTokens} tokens; it takes 1 to {LengthAdaptivePrograms.PrefillBucket}");
        if (lutEngine) graph = LutEngineLowering.Apply(graph);
        long Bytes(Value w) => FpgaMemoryImage.SystemBytes(w, GraphBinding.Weight(w, store).Data.Length);
        int chunk = Math.Min(chunkTokens, maxContext);
        shape ??= device is null ? AcceleratorShape.Minimal : Fit(graph, Bytes, maxContext, chunk, device).Shape;
        var cores = CoreAssignment.For(graph, shape, maxContext);
        var plan = FpgaMemoryPlan.For(graph, Bytes, maxContext, chunk, cores);
        var compilation = new FpgaCompilation(graph, store, plan, LengthAdaptivePrograms.Compile(graph, plan),
            OnChipBuffers.For(graph, plan, LengthAdaptivePrograms.DecodeBucket));
        if (device is not null) CoreFit.Check(shape, cores.Design.Sparse, CoreFit.Shared(compilation.Buffers, compilation.Rtl.ProgramDepth, cores.LegacyMatrix), device);
        return compilation;
    }

    /// <summary>The cores that fill <paramref name="device"/> for this graph: its on-chip buffers (which do not depend on the cores) and whether its cores need N:M rows.</summary>
    public static CoreFit.Choice Fit(Graph graph, Func<Value, long> weightBytes, int maxContext, int chunkTokens, FpgaDevice device)
    {
        var provisional = CoreAssignment.For(graph, AcceleratorShape.Minimal, maxContext);
        var buffers = OnChipBuffers.For(graph, FpgaMemoryPlan.For(graph, weightBytes, maxContext, chunkTokens, provisional), LengthAdaptivePrograms.DecodeBucket);
        return CoreFit.For(device, provisional.Design.Sparse, CoreFit.Shared(buffers, AcceleratorRtl.DefaultProgramDepth, provisional.LegacyMatrix));
    }

    public long ExternalBytes => Plan.ExternalUnits * FpgaMemoryPlan.Unit;

    /// <summary>Bytes of each matrix core's channel the model uses (at least a beat).</summary>
    public long CoreBytes => Math.Max(Plan.CoreUnits * FpgaMemoryPlan.Unit, 64);

    public MatrixCoreDesign Cores => Plan.Cores.Design;

    public FpgaIo Io => FpgaIo.For(Graph, Plan);

    /// <summary>The accelerator with these buffers and an instruction memory that holds the longest program.</summary>
    public AcceleratorRtl Rtl => AcceleratorRtl.For(Buffers, Programs.LongestProgram) with { Cores = Plan.Cores.Design, LegacyMatrix = Plan.Cores.LegacyMatrix };

    /// <summary>The functional model of this design with empty memories.</summary>
    public FunctionalAccelerator FunctionalModel() => new(ExternalBytes, Buffers, Cores, CoreBytes);

    /// <summary>The Verilated RTL of this design with empty memories, behind the given ports.</summary>
    public VerilatedAccelerator Simulator(MemoryPort? port = null, CorePort? corePort = null) => VerilatedAccelerator.Create(Rtl, ExternalBytes, port, CoreBytes, corePort);

    /// <summary>Writes the model's memory image into <paramref name="device"/> and returns the host's step runner over it.</summary>
    public FpgaStepRunner Runner(IAcceleratorDevice device)
    {
        FpgaMemoryImage.Load(device, Graph, Store, Plan);
        return new FpgaStepRunner(Io, Programs, device);
    }
}
