using Codesign.Backends.Fpga.Devices;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// What Yosys' <c>synth_xilinx</c> maps a design to: DSP48E2 slices, LUTs (LUT1–LUT6, and the LUTs distributed RAM and
/// shift registers occupy), flip-flops (FD*), block RAM
/// in 36 Kb units (RAMB18 counts half), UltraRAM, and carry chains. Yosys packs only the multiplier of a
/// multiply-accumulate into the DSP slice; the accumulator registers and adders that Vivado would fold into the
/// slice's P register and ALU stay in <see cref="Ff"/> and <see cref="Lut"/>, so those two are upper bounds.
/// </summary>
public sealed record ResourceReport(long Dsp, long Lut, long Ff, double Bram36, long Uram, long Carry, IReadOnlyDictionary<string, long> CellsByType)
{
    /// <summary>The deepest register-to-register path of each unit, where the synthesis measured it.</summary>
    public LogicDepth? Depth { get; init; }

    /// <summary>The counts in a line: "DSP 16, LUT 1234, FF 5678, BRAM36 2.5, URAM 0".</summary>
    public string Summary => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"DSP {Dsp}, LUT {Lut}, FF {Ff}, BRAM36 {Bram36}, URAM {Uram}");

    /// <summary>Each resource the design needs more of than <paramref name="device"/> has, as "DSP 9100 > 9024".</summary>
    public IReadOnlyList<string> Exceeding(FpgaDevice device)
    {
        var over = new List<string>();
        void Check(string name, double used, long available)
        {
            if (used > available) over.Add($"{name} {used} > {available}");
        }
        Check("DSP", Dsp, device.Resources.Dsp);
        Check("LUT", Lut, device.Resources.Lut);
        Check("FF", Ff, device.Resources.Ff);
        Check("BRAM36", Bram36, device.Resources.Bram36);
        Check("URAM", Uram, device.Resources.Uram);
        return over;
    }

    /// <summary>LUTs a distributed-RAM or shift-register primitive occupies (UltraScale+ SLICEM: a RAM64M8 is a slice's eight).</summary>
    private static long LutsOfMemoryCell(string type) => type switch
    {
        "RAM64M8" or "RAM32M16" or "RAM512X1S" => 8,
        "RAM64M" or "RAM32M" or "RAM128X1D" or "RAM256X1S" or "RAM256X1D" => 4,
        "RAM64X1D" or "RAM32X1D" or "RAM128X1S" => 2,
        "RAM64X1S" or "RAM32X1S" or "SRL16E" or "SRLC32E" => 1,
        _ => 0,
    };

    public static ResourceReport FromCells(IReadOnlyDictionary<string, long> cells)
    {
        long Sum(Func<string, bool> match) => cells.Where(kv => match(kv.Key)).Sum(kv => kv.Value);
        return new ResourceReport(
            Dsp: Sum(t => t.StartsWith("DSP48", StringComparison.Ordinal)),
            Lut: Sum(t => t is "LUT1" or "LUT2" or "LUT3" or "LUT4" or "LUT5" or "LUT6") + cells.Sum(kv => kv.Value * LutsOfMemoryCell(kv.Key)),
            Ff: Sum(t => t.StartsWith("FD", StringComparison.Ordinal)),
            Bram36: Sum(t => t.StartsWith("RAMB36", StringComparison.Ordinal)) + Sum(t => t.StartsWith("RAMB18", StringComparison.Ordinal)) / 2.0,
            Uram: Sum(t => t.StartsWith("URAM", StringComparison.Ordinal)),
            Carry: Sum(t => t.StartsWith("CARRY", StringComparison.Ordinal)),
            CellsByType: cells);
    }
}
