using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Isa;

/// <summary>
/// A field the runtime writes before it runs a program compiled for a length bucket: bits
/// [<see cref="Shift"/>, +<see cref="Width"/>) of operand word <see cref="Word"/> (1..4) of instruction
/// <see cref="Instruction"/> become clamp(ContextScale · context + TokenScale · tokens + Offset, 0, Max), where
/// tokens are the step's new tokens and context the tokens it attends to (the cache and the new ones).
/// The clamp is what makes a KV tile beyond the actual context empty (length 0), which the controller skips.
/// </summary>
public readonly record struct PatchPoint(int Instruction, byte Word, byte Shift, byte Width, int ContextScale, int TokenScale, long Offset, long Max)
{
    /// <summary>Bytes a patch point takes in the program's patch table.</summary>
    public const int Bytes = 24;

    public uint Value(int tokens, int context) => (uint)Math.Clamp((long)ContextScale * context + (long)TokenScale * tokens + Offset, 0, Max);

    /// <summary><paramref name="instruction"/> (the one this point patches) with the field written for the lengths.</summary>
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
            if (p.Instruction < 0 || p.Instruction >= instructions.Length || p.Word is < 1 or >= Instruction.Words
                || p.Width is < 1 or > 32 || p.Shift + p.Width > 32 || p.Max < 0)
                throw new CodesignException($"{source}: patch point {n} ({p}) is not a field of an operand word of one of its {instructions.Length} instructions");
        }
        return new InstructionProgram(instructions, patches);
    }

    /// <summary>The instructions with every patch point written for <paramref name="tokens"/> and <paramref name="context"/>.</summary>
    public Instruction[] Patched(int tokens, int context)
    {
        var result = Instructions.ToArray();
        foreach (var p in Patches) result[p.Instruction] = p.Apply(result[p.Instruction], tokens, context);
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
