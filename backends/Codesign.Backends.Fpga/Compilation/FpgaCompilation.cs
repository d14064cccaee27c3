using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
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
    /// <summary>
    /// The smallest instruction memory rendered: <see cref="AcceleratorRtl.DefaultProgramDepth"/>, so designs share a
    /// Verilator build, unless the device is too small for it (<see cref="ProgramFloorFor"/>).
    /// </summary>
    public int ProgramFloor { get; init; } = AcceleratorRtl.DefaultProgramDepth;

    /// <summary>
    /// The instruction memory's floor on <paramref name="device"/>: the default where it takes at most a quarter of the
    /// device's block RAM (the U280: 464 BRAM36 of 2 016), else none, the longest program deciding (the ZCU104: 64 Ki
    /// instructions would be 149 % of its 312).
    /// </summary>
    public static int ProgramFloorFor(FpgaDevice? device) =>
        device is null || CoreFit.ProgramBram(AcceleratorRtl.DefaultProgramDepth) <= device.Resources.Bram36 / 4.0 ? AcceleratorRtl.DefaultProgramDepth : 1;

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
            OnChipBuffers.For(graph, plan, LengthAdaptivePrograms.DecodeBucket)) { ProgramFloor = ProgramFloorFor(device) };
        if (!cores.Binary32Engine && compilation.Programs.All.Any(p => p.Instructions.Any(MatrixFormat.OnBinary32Engine)))
            throw new InvalidOperationException("fpga: a program has a binary32-engine instruction, but the core assignment left the engine out");
        if (device is not null) CoreFit.Check(shape, cores.Design.Mux, CoreFit.Shared(compilation.Buffers, compilation.Rtl.ProgramDepth, cores.LegacyMatrix, cores.Binary32Engine), device);
        return compilation;
    }

    /// <summary>The cores that run this graph's matrices fastest on <paramref name="device"/>: its on-chip buffers (which do not depend on the cores), the units it needs, its matrices.</summary>
    public static CoreFit.Choice Fit(Graph graph, Func<Value, long> weightBytes, int maxContext, int chunkTokens, FpgaDevice device)
    {
        var provisional = CoreAssignment.For(graph, AcceleratorShape.Minimal, maxContext);
        var provisionalPlan = FpgaMemoryPlan.For(graph, weightBytes, maxContext, chunkTokens, provisional);
        var buffers = OnChipBuffers.For(graph, provisionalPlan, LengthAdaptivePrograms.DecodeBucket);
        // one core runs attention in the most rounds: its programs are the longest any shape compiles
        int floor = ProgramFloorFor(device);
        int depth = floor >= AcceleratorRtl.DefaultProgramDepth ? AcceleratorRtl.DefaultProgramDepth
            : AcceleratorRtl.ProgramDepthFor(LengthAdaptivePrograms.Compile(graph, provisionalPlan).LongestProgram, floor);
        var work = provisional.Nodes.Select(node =>
        {
            var w = node.Inputs[1];
            var scheme = w.Type.DType.CodeScheme!;
            int k = (int)w.Type[1].Size;
            return new MatrixWork((int)w.Type[0].Size, k, scheme.Bits, scheme.GroupLength(k), w.Type.DType.Sparsity is not null, weightBytes(w));
        }).ToList();
        return CoreFit.For(device, provisional.Design.Mux, CoreFit.Shared(buffers, depth, provisional.LegacyMatrix, provisional.Binary32Engine),
            work.Count == 0 ? null : work);
    }

    public long ExternalBytes => Plan.ExternalUnits * FpgaMemoryPlan.Unit;

    /// <summary>Bytes of each matrix core's channel the model uses (at least a beat).</summary>
    public long CoreBytes => Math.Max(Plan.CoreUnits * FpgaMemoryPlan.Unit, 64);

    public MatrixCoreDesign Cores => Plan.Cores.Design;

    public FpgaIo Io => FpgaIo.For(Graph, Plan);

    /// <summary>The accelerator with these buffers and an instruction memory that holds the longest program.</summary>
    public AcceleratorRtl Rtl => AcceleratorRtl.For(Buffers, Programs.LongestProgram, ProgramFloor) with { Cores = Plan.Cores.Design, LegacyMatrix = Plan.Cores.LegacyMatrix, Binary32Engine = Plan.Cores.Binary32Engine };

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
