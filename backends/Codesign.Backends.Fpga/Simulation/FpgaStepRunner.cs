using System.Runtime.InteropServices;
using Codesign.Backends.Fpga.Compilation;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The host's side of a step on an accelerator: writes the step's token ids (and their positions, for a graph that
/// takes them) to the I/O region, patches the bucket program for the lengths — a decode program for one token, a
/// prefill-chunk program (the causal mask inside the KV tiles) for more — runs it and reads the logits back.
/// </summary>
public sealed class FpgaStepRunner(FpgaIo io, LengthAdaptivePrograms programs, IAcceleratorDevice device)
{
    public int MaxContext => programs.MaxContext;
    /// <summary>The most tokens one step takes.</summary>
    public int ChunkTokens => programs.ChunkTokens;
    public AcceleratorRun? LastRun { get; private set; }
    /// <summary>The patched program the last step ran.</summary>
    public IReadOnlyList<Isa.Instruction>? LastProgram { get; private set; }

    /// <summary>The logits after <paramref name="token"/>, the <paramref name="context"/>-th token of the sequence (1-based).</summary>
    public float[] Decode(int token, int context) => Step([token], context);

    /// <summary>
    /// The logits (a row of the vocabulary per token) after <paramref name="tokens"/>, the last of which is the
    /// <paramref name="context"/>-th token of the sequence: one step of up to <see cref="ChunkTokens"/> tokens.
    /// </summary>
    public float[] Step(ReadOnlySpan<int> tokens, int context)
    {
        int n = tokens.Length;
        // The programs check the lengths (a chunk of 0 or too many tokens, a context outside the cache) before anything is written.
        var step = n == 1 ? programs.DecodeStep(context) : programs.PrefillChunk(n, context);
        device.Write(io.TokenAddress, MemoryMarshal.AsBytes(tokens));
        if (io.PositionAddress is { } position)
        {
            var positions = new int[n];
            for (int t = 0; t < n; t++) positions[t] = context - n + t;
            device.Write(position, MemoryMarshal.AsBytes(positions.AsSpan()));
        }
        LastRun = device.Run(step);
        LastProgram = step;
        var logits = new float[(long)n * io.Vocab];
        device.Read(io.LogitsAddress, MemoryMarshal.AsBytes(logits.AsSpan()));
        return logits;
    }
}
