using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// FlightLLM's length-adaptive compilation: instead of one program per context length, one program per bucket —
/// decode contexts rounded up to <see cref="DecodeBucket"/>, prefill-chunk contexts to <see cref="PrefillBucket"/> —
/// whose length fields the runtime patches (<see cref="InstructionProgram.Patched"/>).
/// </summary>
public sealed class LengthAdaptivePrograms
{
    public const int DecodeBucket = 16;
    public const int PrefillBucket = 128;

    private LengthAdaptivePrograms(IReadOnlyList<InstructionProgram> decode, IReadOnlyList<InstructionProgram> prefill, int maxContext)
    {
        Decode = decode;
        Prefill = prefill;
        MaxContext = maxContext;
    }

    /// <summary>Decode programs: bucket b serves contexts ((b − 1)·16, b·16].</summary>
    public IReadOnlyList<InstructionProgram> Decode { get; }
    /// <summary>Prefill-chunk programs: bucket b serves contexts ((b − 1)·128, b·128].</summary>
    public IReadOnlyList<InstructionProgram> Prefill { get; }
    public int MaxContext { get; }

    public long Bytes => DecodeBytes + Prefill.Sum(p => p.Bytes);

    /// <summary>Storage of the decode programs alone (what an artifact keeps).</summary>
    public long DecodeBytes => Decode.Sum(p => p.Bytes);

    public static LengthAdaptivePrograms Compile(Graph graph, FpgaMemoryPlan plan, int kvTile = DecodeBucket)
    {
        int max = plan.MaxContext;
        var decode = Enumerable.Range(1, (max + DecodeBucket - 1) / DecodeBucket)
            .Select(b => InstructionCompiler.Compile(graph, plan, decode: true, Math.Min(b * DecodeBucket, max), kvTile)).ToList();
        var prefill = Enumerable.Range(1, (max + PrefillBucket - 1) / PrefillBucket)
            .Select(b => InstructionCompiler.Compile(graph, plan, decode: false, Math.Min(b * PrefillBucket, max), kvTile)).ToList();
        return new LengthAdaptivePrograms(decode, prefill, max);
    }

    /// <summary>
    /// Decode programs compiled earlier (an artifact's), one per bucket up to <paramref name="maxContext"/>, without
    /// prefill programs: what a host needs that feeds prompts a token per step.
    /// </summary>
    public static LengthAdaptivePrograms ForDecode(IReadOnlyList<InstructionProgram> decode, int maxContext)
    {
        if (maxContext < 1) throw new CodesignException($"fpga: a maximum context of {maxContext} tokens");
        int buckets = (maxContext + DecodeBucket - 1) / DecodeBucket;
        if (decode.Count != buckets)
            throw new CodesignException($"fpga: {decode.Count} decode programs for a maximum context of {maxContext} tokens, which takes {buckets} buckets of {DecodeBucket}");
        return new LengthAdaptivePrograms(decode, [], maxContext);
    }

    /// <summary>The instructions of a decode step whose context (the cache plus the new token) is <paramref name="context"/> tokens.</summary>
    public Instruction[] DecodeStep(int context) => Bucket(Decode, DecodeBucket, context).Patched(1, context);

    /// <summary>The instructions of a prefill chunk of <paramref name="tokens"/> new tokens ending a context of <paramref name="context"/>.</summary>
    public Instruction[] PrefillChunk(int tokens, int context) => Bucket(Prefill, PrefillBucket, context).Patched(tokens, context);

    private InstructionProgram Bucket(IReadOnlyList<InstructionProgram> programs, int size, int context)
    {
        if (context < 1 || context > MaxContext) throw new CodesignException($"fpga: context {context} is outside 1..{MaxContext}");
        if (programs.Count == 0) throw new CodesignException("fpga: these programs are decode programs only; no prefill-chunk program was kept");
        return programs[(context - 1) / size];
    }

    /// <summary>
    /// Storage of the alternative, one program per context length (decode) and per prefill-chunk context, each
    /// compiled for its exact length: what length-adaptive compilation saves is this over <see cref="Bytes"/>.
    /// </summary>
    public static long BytesOfOneProgramPerLength(Graph graph, FpgaMemoryPlan plan, int kvTile = DecodeBucket) =>
        InstructionBytesPerLength(graph, plan, decode: true, kvTile) + InstructionBytesPerLength(graph, plan, decode: false, kvTile);

    /// <summary>The decode half of <see cref="BytesOfOneProgramPerLength"/>: what <see cref="DecodeBytes"/> saves.</summary>
    public static long BytesOfOneDecodeProgramPerLength(Graph graph, FpgaMemoryPlan plan, int kvTile = DecodeBucket) =>
        InstructionBytesPerLength(graph, plan, decode: true, kvTile);

    // Instructions only: a program for one decode length needs no patch table (a prefill chunk's would still patch
    // its token count, which is left out, so the comparison errs against length-adaptive programs).
    private static long InstructionBytesPerLength(Graph graph, FpgaMemoryPlan plan, bool decode, int kvTile) =>
        Enumerable.Range(1, plan.MaxContext).Sum(context => (long)InstructionCompiler.Compile(graph, plan, decode, context, kvTile).Instructions.Count * Instruction.Bytes);
}
