using System.Runtime.InteropServices;
using Codesign.Backends.Fpga.Compilation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Values;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The host's side of a decode step on an accelerator: writes the token id (and its position, for a graph that
/// takes them) to the I/O region, patches the bucket program for the context, runs it and reads the logits back.
/// Prompts go through one token per step: prefill-chunk programs need a causal mask inside a KV tile, which the
/// accelerator does not execute yet.
/// </summary>
public sealed class FpgaStepRunner
{
    private readonly FpgaMemoryPlan _plan;
    private readonly LengthAdaptivePrograms _programs;
    private readonly IAcceleratorDevice _device;
    private readonly Value _tokens;
    private readonly Value? _positions;
    private readonly Value _logits;
    private readonly int _vocab;

    public FpgaStepRunner(Graph graph, FpgaMemoryPlan plan, LengthAdaptivePrograms programs, IAcceleratorDevice device)
    {
        _plan = plan;
        _programs = programs;
        _device = device;
        _tokens = graph.Nodes.FirstOrDefault(n => n.Op is EmbeddingOp)?.Inputs[0]
            ?? throw new CodesignException($"fpga: graph @{graph.Name} has no embedding to feed token ids to");
        _positions = graph.Nodes.FirstOrDefault(n => n.Op is RopeOp)?.Inputs[1];
        if (graph.Outputs.Count != 1) throw new CodesignException($"fpga: graph @{graph.Name} has {graph.Outputs.Count} outputs; a decode step returns the logits");
        _logits = graph.Outputs[0];
        _vocab = checked((int)FpgaMemoryPlan.PerTokenElements(_logits));
    }

    public int MaxContext => _programs.MaxContext;
    public AcceleratorRun? LastRun { get; private set; }

    /// <summary>The logits after <paramref name="token"/>, the <paramref name="context"/>-th token of the sequence (1-based).</summary>
    public float[] Decode(int token, int context)
    {
        var step = _programs.DecodeStep(context);
        _device.Write(_plan.Io[_tokens] * FpgaMemoryPlan.Unit, MemoryMarshal.AsBytes([token]));
        if (_positions is not null) _device.Write(_plan.Io[_positions] * FpgaMemoryPlan.Unit, MemoryMarshal.AsBytes([context - 1]));
        LastRun = _device.Run(step);
        var logits = new float[_vocab];
        _device.Read(_plan.Io[_logits] * FpgaMemoryPlan.Unit, MemoryMarshal.AsBytes(logits.AsSpan()));
        return logits;
    }
}
