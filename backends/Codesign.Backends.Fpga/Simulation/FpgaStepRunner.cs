using System.Runtime.InteropServices;
using Codesign.Backends.Fpga.Compilation;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The host's side of a decode step on an accelerator: writes the token id (and its position, for a graph that
/// takes them) to the I/O region, patches the bucket program for the context, runs it and reads the logits back.
/// Prompts go through one token per step: prefill-chunk programs need a causal mask inside a KV tile, which the
/// accelerator does not execute yet.
/// </summary>
public sealed class FpgaStepRunner(FpgaIo io, LengthAdaptivePrograms programs, IAcceleratorDevice device)
{
    public int MaxContext => programs.MaxContext;
    public AcceleratorRun? LastRun { get; private set; }
    /// <summary>The patched program the last step ran.</summary>
    public IReadOnlyList<Isa.Instruction>? LastProgram { get; private set; }

    /// <summary>The logits after <paramref name="token"/>, the <paramref name="context"/>-th token of the sequence (1-based).</summary>
    public float[] Decode(int token, int context)
    {
        var step = programs.DecodeStep(context);
        device.Write(io.TokenAddress, MemoryMarshal.AsBytes([token]));
        if (io.PositionAddress is { } position) device.Write(position, MemoryMarshal.AsBytes([context - 1]));
        LastRun = device.Run(step);
        LastProgram = step;
        var logits = new float[io.Vocab];
        device.Read(io.LogitsAddress, MemoryMarshal.AsBytes(logits.AsSpan()));
        return logits;
    }
}
