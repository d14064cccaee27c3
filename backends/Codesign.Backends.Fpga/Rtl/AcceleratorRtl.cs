using System.Numerics;
using Codesign.Backends.Fpga.Compilation;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Rtl;

/// <summary>
/// The whole accelerator (<c>hdl-templates/accelerator.sv.sbn</c> and the blocks it instantiates) rendered for a
/// set of on-chip buffer sizes and an instruction memory of <paramref name="ProgramDepth"/> instructions: file name
/// to Verilog, the top module named <see cref="Top"/>. The matrix engine holds one activation row of int8 codes
/// (at most as many as the activation buffer holds words), <paramref name="ScaleEntries"/> group scales and
/// <paramref name="IndexLines"/> 16-byte lines of N:M offsets (or a block mask), which bound the weight rows it streams per burst.
/// </summary>
public sealed record AcceleratorRtl(OnChipBuffers Buffers, int ProgramDepth, int ScaleEntries = AcceleratorRtl.DefaultScaleEntries, int IndexLines = AcceleratorRtl.DefaultIndexLines)
{
    /// <summary>The matrix engine's scale buffer and index buffer (16-byte lines: N:M offsets, or a block mask) as compiled artifacts have them.</summary>
    public const int DefaultScaleEntries = 1024, DefaultIndexLines = 1024;

    /// <summary>The matrix engine's activation-code buffer: a row of K codes, K at most 65535 (a 16-bit field).</summary>
    public int CodeWords => Math.Clamp(Buffers.ActivationUnits * 4, 2, ushort.MaxValue);

    public const string Top = "accelerator";

    /// <summary>
    /// The matrix engine's chain: 32 lanes over a window of 64 activation codes, so a beat of dense 2- to 4-bit codes
    /// takes up to a whole 16-byte line of them (32 4-bit codes), and of a 2:4 or 4:8 row's 32 kept codes of 64 columns.
    /// </summary>
    public static readonly MpeChainConfig Chain = new(Lanes: 32, Window: 64);

    /// <summary>The largest instruction memory the top accepts; a longer program is split by the host.</summary>
    public const int MaxProgramDepth = 1 << 20;

    /// <summary>The smallest instruction memory rendered: a decode step of a 7B-class model fits, and models that fit share one build.</summary>
    public const int DefaultProgramDepth = 1 << 16;

    /// <summary>The accelerator for <paramref name="buffers"/> whose instruction memory (a power of two) holds <paramref name="longestProgram"/> instructions.</summary>
    public static AcceleratorRtl For(OnChipBuffers buffers, int longestProgram = 0) =>
        new(buffers, longestProgram <= DefaultProgramDepth ? DefaultProgramDepth
            : longestProgram > MaxProgramDepth ? throw new CodesignException($"fpga rtl: a program of {longestProgram} instructions exceeds the largest instruction memory, {MaxProgramDepth}")
            : (int)BitOperations.RoundUpToPowerOf2((uint)longestProgram));

    /// <summary>The arithmetic blocks beyond group_dequant's (<see cref="GroupDequantRtl"/>), each rendered with its name only.</summary>
    private static readonly string[] ArithmeticBlocks = ["fp32_div", "f16_to_f32", "fp32_to_int8"];

    public static int AddressBits(int lines) => lines <= 2 ? 1 : BitOperations.Log2((uint)lines - 1) + 1;

    public Dictionary<string, string> Render()
    {
        if (ProgramDepth is < 1 or > MaxProgramDepth) throw new CodesignException($"fpga rtl: an instruction memory of {ProgramDepth} instructions (1 to {MaxProgramDepth})");
        if (ScaleEntries is < 2 or > 1 << 20) throw new CodesignException($"fpga rtl: a scale buffer of {ScaleEntries} entries (2 to {1 << 20})");
        if (IndexLines is < 2 or > 1 << 16 || !BitOperations.IsPow2(IndexLines)) throw new CodesignException($"fpga rtl: an index buffer of {IndexLines} lines (a power of two, 2 to {1 << 16})");
        foreach (var (name, lines) in new[] { ("activation", Buffers.ActivationUnits), ("KV", Buffers.KvUnits), ("parameter", Buffers.ParameterUnits) })
            if (lines < 1) throw new CodesignException($"fpga rtl: the {name} buffer has {lines} lines");
        var files = GroupDequantRtl.Render();
        foreach (var block in ArithmeticBlocks) files[$"{block}.sv"] = RtlTemplates.Render(block, new Dictionary<string, object> { ["module_name"] = block });
        files["fp32_exp.sv"] = Fp32ExpRtl.Render();
        files["mpe_chain.sv"] = Chain.Render();
        foreach (var block in new[] { "accel_buffer", "accel_dma", "accel_sfu", "sfu_elementwise", "sfu_rms_norm", "sfu_rope", "sfu_softmax", "accel_matrix", "accel_fp32_matrix", "lut_table_builder", "lut_lookup", "lut_dequant" })
            files[$"{block}.sv"] = RtlTemplates.Render(block, new Dictionary<string, object> { ["module_name"] = block, ["prefix"] = "" });
        files[$"{Top}.sv"] = RtlTemplates.Render("accelerator", new Dictionary<string, object>
        {
            ["module_name"] = Top,
            ["prefix"] = "",
            ["act_lines"] = Buffers.ActivationUnits,
            ["kv_lines"] = Buffers.KvUnits,
            ["param_lines"] = Buffers.ParameterUnits,
            ["act_aw"] = AddressBits(Buffers.ActivationUnits),
            ["kv_aw"] = AddressBits(Buffers.KvUnits),
            ["param_aw"] = AddressBits(Buffers.ParameterUnits),
            ["prog_depth"] = ProgramDepth,
            ["prog_aw"] = AddressBits(ProgramDepth),
            ["code_words"] = CodeWords,
            ["scale_entries"] = ScaleEntries,
            ["index_lines"] = IndexLines,
        });
        return files;
    }
}
