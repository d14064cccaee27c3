using System.Numerics;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Rtl;

/// <summary>
/// The whole accelerator (<c>hdl-templates/accelerator.sv.sbn</c> and the blocks it instantiates) rendered for a
/// set of on-chip buffer sizes and an instruction memory of <paramref name="ProgramDepth"/> instructions: file name
/// to Verilog, the top module named <see cref="Top"/>. The matrix engine holds one activation row of int8 codes
/// (at most as many as the activation buffer holds words), <paramref name="ScaleEntries"/> group scales and
/// <paramref name="IndexLines"/> 16-byte lines of N:M offsets (or a block mask), which bound the weight rows it streams per burst.
/// The matrix cores are rendered as <see cref="Cores"/> describes them (by default one core of 16-byte beats sized for
/// the activation buffer); the single-port matrix engine only where <see cref="LegacyMatrix"/>.
/// </summary>
public sealed record AcceleratorRtl(OnChipBuffers Buffers, int ProgramDepth, int ScaleEntries = AcceleratorRtl.DefaultScaleEntries, int IndexLines = AcceleratorRtl.DefaultIndexLines)
{
    private readonly MatrixCoreDesign? _cores;

    /// <summary>The matrix cores' design; by default one core on 16-byte beats whose code banks hold a row as long as the activation buffer.</summary>
    public MatrixCoreDesign Cores
    {
        get => _cores ?? MatrixCoreDesign.For(AcceleratorShape.Minimal, Math.Min(CodeWords, 1 << 15), 64, 16, 16, []);
        init => _cores = value.Checked();
    }

    /// <summary>Whether the design has the single-port matrix engine (block sparsity, LUT-mpGEMM, shapes the cores refuse).</summary>
    public bool LegacyMatrix { get; init; } = true;

    /// <summary>Whether the design has the binary32 engine (f32 matrices, attention over f32 KV tiles): about 100 000 LUTs, so a design whose work all runs on the cores leaves it out.</summary>
    public bool Binary32Engine { get; init; } = true;

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

    /// <summary>
    /// The accelerator for <paramref name="buffers"/> whose instruction memory (a power of two, at least
    /// <paramref name="floor"/>) holds <paramref name="longestProgram"/> instructions.
    /// </summary>
    public static AcceleratorRtl For(OnChipBuffers buffers, int longestProgram = 0, int floor = DefaultProgramDepth) => new(buffers, ProgramDepthFor(longestProgram, floor));

    /// <summary>The instruction memory (a power of two, at least <paramref name="floor"/>) that holds <paramref name="longestProgram"/> instructions.</summary>
    public static int ProgramDepthFor(int longestProgram, int floor = DefaultProgramDepth) =>
        longestProgram > MaxProgramDepth ? throw new CodesignException($"fpga rtl: a program of {longestProgram} instructions exceeds the largest instruction memory, {MaxProgramDepth}")
            : (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(Math.Max(longestProgram, floor), 2));

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
        var blocks = new List<string> { "accel_buffer", "accel_dma", "accel_sfu", "sfu_elementwise", "sfu_rms_norm", "sfu_rope", "sfu_softmax" };
        if (Binary32Engine) blocks.Add("accel_fp32_matrix");
        if (LegacyMatrix)
        {
            files["mpe_chain.sv"] = Chain.Render();
            blocks.AddRange(["accel_matrix", "lut_table_builder", "lut_lookup", "lut_dequant"]);
        }
        foreach (var block in blocks)
            files[$"{block}.sv"] = RtlTemplates.Render(block, new Dictionary<string, object> { ["module_name"] = block, ["prefix"] = "" });
        var cores = Cores;
        files["core_chain.sv"] = RtlTemplates.Render("core_chain", new Dictionary<string, object>
        {
            ["module_name"] = "core_chain", ["lanes"] = cores.Lanes, ["levels"] = BitOperations.Log2((uint)cores.Lanes), ["weight_bits"] = 9,
        });
        files["accel_core.sv"] = RtlTemplates.Render("accel_core", new Dictionary<string, object>
        {
            ["module_name"] = "accel_core", ["prefix"] = "", ["chain_module"] = "core_chain", ["chain_latency"] = cores.ChainLatency,
        });
        files["accel_cores.sv"] = RtlTemplates.Render("accel_cores", new Dictionary<string, object>
        {
            ["module_name"] = "accel_cores", ["prefix"] = "",
            ["cores"] = cores.Cores, ["log2_cores"] = cores.Shape.Log2Cores, ["log2_cores_bits"] = Math.Max(1, cores.Shape.Log2Cores),
            ["lanes"] = cores.Lanes, ["beat_bytes"] = cores.BeatBytes, ["lane_bytes"] = cores.Shape.LaneBytes, ["rotation"] = cores.Rotation, ["code_rows"] = cores.CodeRows,
            ["code_beats"] = cores.CodeBeats, ["scale_beats"] = cores.ScaleBeats, ["zero_beats"] = cores.ZeroBeats, ["offset_beats"] = cores.OffsetBeats,
            ["outstanding"] = MatrixCoreDesign.Outstanding, ["max_burst"] = cores.MaxBurst, ["sparse"] = cores.Sparse, ["four_of_eight"] = cores.Mux == SparseMux.TwoOfFourAndFourOfEight,
        });
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
            ["cores"] = cores.Cores,
            ["beat_bytes"] = cores.BeatBytes,
            ["legacy_matrix"] = LegacyMatrix,
            ["fp32_engine"] = Binary32Engine,
        });
        return files;
    }

    /// <summary>The simulator shell's view of the design (testbenches/accelerator_shell.cpp includes it): the cores' count and beat.</summary>
    public static string ShellConfig(MatrixCoreDesign cores) =>
        $"// The Verilated accelerator's matrix cores, rendered with its RTL.\n#pragma once\nconstexpr int CoreCount = {cores.Cores};\nconstexpr int CoreBeat = {cores.BeatBytes};\n";
}
