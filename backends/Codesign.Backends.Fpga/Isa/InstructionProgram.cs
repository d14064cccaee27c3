using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// A field the runtime writes before it runs a program compiled for a length bucket: bits
/// [<see cref="Shift"/>, +<see cref="Width"/>) of operand word <see cref="Word"/> (1..4) of instruction
/// <see cref="Instruction"/> become clamp(ContextScale · context + TokenScale · tokens + Offset, 0, Max), where
/// tokens are the step's new tokens and context the tokens it attends to (the cache and the new ones).
/// The clamp is what makes a KV tile beyond the actual context empty (length 0), which the controller skips.
/// A point may stand for <see cref="Repeat"/> of them: the r-th patches instruction Instruction + r · Stride with
/// Offset + r · OffsetStep — the same field of every KV tile is one entry (<see cref="Compress"/>).
/// </summary>
public readonly record struct PatchPoint(int Instruction, byte Word, byte Shift, byte Width, int ContextScale, int TokenScale, long Offset, long Max,
    int Repeat = 1, int Stride = 0, long OffsetStep = 0)
{
    /// <summary>Bytes a patch point takes in the program's patch table.</summary>
    public const int Bytes = 40;

    /// <summary>The last instruction the point patches.</summary>
    public long LastInstruction => Instruction + (long)(Repeat - 1) * Stride;

    /// <summary>The r-th field the point stands for, as a single point.</summary>
    public PatchPoint At(int r) => this with { Instruction = Instruction + r * Stride, Offset = Offset + r * OffsetStep, Repeat = 1, Stride = 0, OffsetStep = 0 };

    public uint Value(int tokens, int context) => (uint)Math.Clamp((long)ContextScale * context + (long)TokenScale * tokens + Offset, 0, Max);

    /// <summary><paramref name="instruction"/> (the one this single point patches) with the field written for the lengths.</summary>
    public Instruction Apply(Instruction instruction, int tokens, int context)
    {
        Span<uint> words = stackalloc uint[Isa.Instruction.Words];
        instruction.Encode(words);
        uint mask = Width >= 32 ? uint.MaxValue : ((1u << Width) - 1) << Shift;
        uint value = Value(tokens, context);
        if (Width < 32 && value >> Width != 0)
            throw new CodesignException($"fpga program: {tokens} tokens over a context of {context} give {value} for a {Width}-bit field of instruction {Instruction}");
        words[Word] = (words[Word] & ~mask) | (value << Shift & mask);
        return Isa.Instruction.Decode(words, Instruction);
    }

    /// <summary>
    /// Single points merged where they form arithmetic runs: the same field and formula at instructions a fixed
    /// stride apart, with offsets a fixed step apart (each KV tile's lengths). Where no field is patched twice (the
    /// compiler's points), patching with the result writes exactly what patching with the single points does.
    /// </summary>
    public static IReadOnlyList<PatchPoint> Compress(IReadOnlyList<PatchPoint> points)
    {
        var runs = new List<PatchPoint>();
        var open = new Dictionary<(byte, byte, byte, int, int, long), int>();
        foreach (var p in points)
        {
            if (p.Repeat != 1) throw new ArgumentException("compresses single points", nameof(points));
            var key = (p.Word, p.Shift, p.Width, p.ContextScale, p.TokenScale, p.Max);
            if (open.TryGetValue(key, out int at))
            {
                var run = runs[at];
                if (run.Repeat == 1 && p.Instruction > run.Instruction)
                {
                    runs[at] = run with { Repeat = 2, Stride = p.Instruction - run.Instruction, OffsetStep = p.Offset - run.Offset };
                    continue;
                }
                if (run.Repeat > 1 && p.Instruction == run.LastInstruction + run.Stride && p.Offset == run.Offset + run.Repeat * run.OffsetStep)
                {
                    runs[at] = run with { Repeat = run.Repeat + 1 };
                    continue;
                }
            }
            open[key] = runs.Count;
            runs.Add(p);
        }
        return runs;
    }
}

/// <summary>
/// An instruction stream with its patch table: a program for one length bucket (<see cref="InstructionCompiler"/>).
/// <see cref="Patched"/> gives the stream for an actual length inside the bucket.
/// </summary>
public sealed class InstructionProgram(IReadOnlyList<Instruction> instructions, IReadOnlyList<PatchPoint> patches)
{
    public IReadOnlyList<Instruction> Instructions { get; } = instructions;
    public IReadOnlyList<PatchPoint> Patches { get; } = patches;

    /// <summary>Storage of the program: its instructions and its patch table.</summary>
    public long Bytes => (long)Instructions.Count * Instruction.Bytes + (long)Patches.Count * PatchPoint.Bytes;

    /// <summary>
    /// A stored program read back (<see cref="Encode"/>'s bytes and its patch table), every patch point checked to
    /// name an instruction of the stream and a field inside an operand word; <paramref name="source"/> names it in errors.
    /// </summary>
    public static InstructionProgram Read(ReadOnlySpan<byte> bytes, IReadOnlyList<PatchPoint> patches, string source)
    {
        var instructions = Decode(bytes, source);
        for (int n = 0; n < patches.Count; n++)
        {
            var p = patches[n];
            if (p.Instruction < 0 || p.Repeat < 1 || (p.Repeat > 1 && p.Stride < 1) || p.LastInstruction >= instructions.Length || p.Word is < 1 or >= Instruction.Words
                || p.Width is < 1 or > 32 || p.Shift + p.Width > 32 || p.Max < 0)
                throw new CodesignException($"{source}: patch point {n} ({p}) is not a field of an operand word of one of its {instructions.Length} instructions");
        }
        return new InstructionProgram(instructions, patches);
    }

    /// <summary>The instructions with every patch point written for <paramref name="tokens"/> and <paramref name="context"/>.</summary>
    public Instruction[] Patched(int tokens, int context)
    {
        var result = Instructions.ToArray();
        foreach (var run in Patches)
            for (int r = 0; r < run.Repeat; r++)
            {
                var p = run.At(r);
                result[p.Instruction] = p.Apply(result[p.Instruction], tokens, context);
            }
        return result;
    }

    /// <summary>The encoded instruction stream (five little-endian words per instruction).</summary>
    public static byte[] Encode(IReadOnlyList<Instruction> instructions)
    {
        var bytes = new byte[instructions.Count * Instruction.Bytes];
        Span<uint> words = stackalloc uint[Instruction.Words];
        for (int i = 0; i < instructions.Count; i++)
        {
            instructions[i].Encode(words);
            for (int w = 0; w < Instruction.Words; w++)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * Instruction.Bytes + w * 4), words[w]);
        }
        return bytes;
    }

    /// <param name="source">Names the stream in errors.</param>
    public static Instruction[] Decode(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length % Instruction.Bytes != 0)
            throw new CodesignException($"{source}: {bytes.Length} bytes is not a whole number of {Instruction.Bytes}-byte instructions");
        var result = new Instruction[bytes.Length / Instruction.Bytes];
        Span<uint> words = stackalloc uint[Instruction.Words];
        for (int i = 0; i < result.Length; i++)
        {
            for (int w = 0; w < Instruction.Words; w++)
                words[w] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * Instruction.Bytes + w * 4)..]);
            try
            {
                result[i] = Instruction.Decode(words, i);
            }
            catch (CodesignException e)
            {
                throw new CodesignException($"{source}: {e.Message}");
            }
        }
        return result;
    }
}
