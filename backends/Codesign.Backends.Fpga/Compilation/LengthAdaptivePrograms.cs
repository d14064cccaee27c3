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

    private LengthAdaptivePrograms(IReadOnlyList<InstructionProgram> decode, IReadOnlyList<InstructionProgram> prefill, int maxContext, int chunkTokens)
    {
        Decode = decode;
        Prefill = prefill;
        MaxContext = maxContext;
        ChunkTokens = chunkTokens;
    }

    /// <summary>Decode programs: bucket b serves contexts ((b − 1)·16, b·16].</summary>
    public IReadOnlyList<InstructionProgram> Decode { get; }
    /// <summary>Prefill-chunk programs: bucket b serves contexts ((b − 1)·128, b·128]; none where the chunk is one token.</summary>
    public IReadOnlyList<InstructionProgram> Prefill { get; }
    public int MaxContext { get; }
    /// <summary>The most tokens a prefill chunk takes (1: prompts go a token a decode step).</summary>
    public int ChunkTokens { get; }

    public long Bytes => DecodeBytes + Prefill.Sum(p => p.Bytes);

    /// <summary>Storage of the decode programs alone.</summary>
    public long DecodeBytes => Decode.Sum(p => p.Bytes);

    /// <summary>Every program, decode then prefill.</summary>
    public IEnumerable<InstructionProgram> All => Decode.Concat(Prefill);

    /// <summary>Instructions of the longest program: what the instruction memory holds.</summary>
    public int LongestProgram => All.Max(p => p.Instructions.Count);

    public static LengthAdaptivePrograms Compile(Graph graph, FpgaMemoryPlan plan, int kvTile = DecodeBucket)
    {
        int max = plan.MaxContext;
        var decode = Enumerable.Range(1, (max + DecodeBucket - 1) / DecodeBucket)
            .Select(b => InstructionCompiler.Compile(graph, plan, decode: true, Math.Min(b * DecodeBucket, max), kvTile)).ToList();
        var prefill = plan.ChunkTokens == 1 ? [] : Enumerable.Range(1, PrefillBuckets(max))
            .Select(b => InstructionCompiler.Compile(graph, plan, decode: false, Math.Min(b * PrefillBucket, max), kvTile)).ToList();
        return new LengthAdaptivePrograms(decode, prefill, max, plan.ChunkTokens);
    }

    private static int PrefillBuckets(int maxContext) => (maxContext + PrefillBucket - 1) / PrefillBucket;

    /// <summary>
    /// Programs compiled earlier (an artifact's): a decode program per 16-token bucket up to <paramref name="maxContext"/>
    /// and, for a chunk of more than one token, a prefill-chunk program per 128-token bucket.
    /// </summary>
    public static LengthAdaptivePrograms Stored(IReadOnlyList<InstructionProgram> decode, IReadOnlyList<InstructionProgram> prefill, int maxContext, int chunkTokens)
    {
        if (maxContext < 1) throw new CodesignException($"fpga: a maximum context of {maxContext} tokens");
        if (chunkTokens < 1 || chunkTokens > Math.Min(maxContext, PrefillBucket))
            throw new CodesignException($"fpga: a prefill chunk of {chunkTokens} tokens for a maximum context of {maxContext} (1 to {Math.Min(maxContext, PrefillBucket)})");
        int buckets = (maxContext + DecodeBucket - 1) / DecodeBucket;
        if (decode.Count != buckets)
            throw new CodesignException($"fpga: {decode.Count} decode programs for a maximum context of {maxContext} tokens, which takes {buckets} buckets of {DecodeBucket}");
        int prefillBuckets = chunkTokens == 1 ? 0 : PrefillBuckets(maxContext);
        if (prefill.Count != prefillBuckets)
            throw new CodesignException($"fpga: {prefill.Count} prefill-chunk programs for a maximum context of {maxContext} tokens and chunks of {chunkTokens}, which take {prefillBuckets}");
        return new LengthAdaptivePrograms(decode, prefill, maxContext, chunkTokens);
    }

    /// <summary>The instructions of a decode step whose context (the cache plus the new token) is <paramref name="context"/> tokens.</summary>
    public Instruction[] DecodeStep(int context) => Bucket(Decode, DecodeBucket, context).Patched(1, context);

    /// <summary>The instructions of a prefill chunk of <paramref name="tokens"/> new tokens ending a context of <paramref name="context"/>.</summary>
    public Instruction[] PrefillChunk(int tokens, int context)
    {
        if (tokens < 1 || tokens > ChunkTokens || tokens > context)
            throw new CodesignException($"fpga: a prefill chunk of {tokens} tokens ending a context of {context}; the programs take 1 to {ChunkTokens} tokens a chunk");
        return Bucket(Prefill, PrefillBucket, context).Patched(tokens, context);
    }

    private InstructionProgram Bucket(IReadOnlyList<InstructionProgram> programs, int size, int context)
    {
        if (context < 1 || context > MaxContext) throw new CodesignException($"fpga: context {context} is outside 1..{MaxContext}");
        if (programs.Count == 0) throw new CodesignException("fpga: these programs are decode programs only (a chunk of one token); no prefill-chunk program was compiled");
        return programs[(context - 1) / size];
    }

    /// <summary>
    /// Storage of the alternative, one program per context length (decode) and per prefill-chunk context, each
    /// compiled for its exact length: what length-adaptive compilation saves is this over <see cref="Bytes"/>.
    /// </summary>
    public static long BytesOfOneProgramPerLength(Graph graph, FpgaMemoryPlan plan, int kvTile = DecodeBucket) =>
        InstructionBytesPerLength(graph, plan, decode: true, kvTile) + (plan.ChunkTokens == 1 ? 0 : InstructionBytesPerLength(graph, plan, decode: false, kvTile));

    // Instructions only: a program for one decode length needs no patch table (a prefill chunk's would still patch
    // its token count, which is left out, so the comparison errs against length-adaptive programs).
    private static long InstructionBytesPerLength(Graph graph, FpgaMemoryPlan plan, bool decode, int kvTile) =>
        Enumerable.Range(1, plan.MaxContext).Sum(context => (long)InstructionCompiler.Compile(graph, plan, decode, context, kvTile).Instructions.Count * Instruction.Bytes);
}
