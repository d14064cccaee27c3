using System.Globalization;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>Resources a design (or part of one) takes, as Yosys' synth_xilinx counts them.</summary>
public sealed record ResourceEstimate(long Dsp, long Lut, long Ff, double Bram36, long Uram)
{
    public static ResourceEstimate operator +(ResourceEstimate a, ResourceEstimate b) => new(a.Dsp + b.Dsp, a.Lut + b.Lut, a.Ff + b.Ff, a.Bram36 + b.Bram36, a.Uram + b.Uram);
    public static ResourceEstimate operator *(long n, ResourceEstimate a) => new(n * a.Dsp, n * a.Lut, n * a.Ff, n * a.Bram36, n * a.Uram);

    public string Summary => string.Create(CultureInfo.InvariantCulture, $"DSP {Dsp}, LUT {Lut}, FF {Ff}, BRAM36 {Bram36}, URAM {Uram}");

    /// <summary>The resources this takes more of than <paramref name="fraction"/> of <paramref name="device"/>'s, as "LUT 1400000 > 1303680".</summary>
    public IReadOnlyList<string> Exceeding(FpgaDevice device, double fraction = 1)
    {
        var r = device.Resources;
        var over = new List<string>();
        void Check(string name, double used, long available)
        {
            if (used > available * fraction) over.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {used} > {available * fraction:0}"));
        }
        Check("DSP", Dsp, r.Dsp);
        Check("LUT", Lut, r.Lut);
        Check("FF", Ff, r.Ff);
        Check("BRAM36", Bram36, r.Bram36);
        Check("URAM", Uram, r.Uram);
        return over;
    }
}

/// <summary>
/// Sizes the matrix cores for a device: the accelerator costs what its shared part costs plus a core's cost per core,
/// and the configuration chosen is the one whose cores stream the most of the weight memory's bandwidth while the whole
/// stays within <see cref="Utilisation"/> of every resource (placement and routing need the rest). The costs are Yosys
/// 0.23 counts (<c>synth_xilinx -family xcup</c>, measured 2026-12-07 on the 2-core CI container; Yosys packs only
/// multipliers into DSP slices, so LUT and FF are upper bounds of what Vivado would use):
/// <list type="bullet">
/// <item>a core, synthesised alone (<c>accel_core</c> as rendered for LLaMA-2-7B's matrices: code banks of 11 008
/// codes, rings for 86 groups a row), for each beat, dense and with the N:M offset reader and sparse MUX;</item>
/// <item>the shared logic: the accelerator rendered for LLaMA-2-7B's decode buffers with one dense 16-byte core,
/// less that core and less its block RAM (DSP 161, LUT 173 498, FF 8 765, BRAM36 992 in all);</item>
/// <item>the shared block RAM, from the buffers' bits: the on-chip buffers (two read ports each) and the instruction
/// memory, at the 1.63 BRAM36 per 36 Kb that design took;</item>
/// <item>the single-port matrix engine (<c>accel_matrix</c> alone, 32-lane chain, LUT-mpGEMM, block sparsity), where a
/// model needs it.</item>
/// </list>
/// The fit is checked by the <c>Yosys</c>-category tests: whole designs of one and two cores against
/// <see cref="Estimate"/>.
/// </summary>
public static class CoreFit
{
    /// <summary>The share of each resource a chosen configuration may take.</summary>
    public const double Utilisation = 0.75;

    /// <summary>A configuration, its estimated resources and the bytes a cycle its cores can stream.</summary>
    public sealed record Choice(AcceleratorShape Shape, ResourceEstimate Estimate, double StreamBytesPerCycle);

    /// <summary>One core at each beat (Yosys, <c>accel_core</c> alone).</summary>
    public static ResourceEstimate MeasuredCore(int beatBytes, bool sparse) => (beatBytes, sparse) switch
    {
        (16, false) => new(37, 11_832, 3_110, 4, 0),
        (16, true) => new(37, 16_861, 3_542, 6, 0),
        (32, false) => new(69, 15_096, 4_661, 12, 0),
        (32, true) => new(69, 28_599, 5_341, 12, 0),
        (64, false) => new(133, 23_006, 7_694, 7.5, 0),
        (64, true) => new(133, 43_127, 8_894, 15, 0),
        _ => throw new CodesignException($"fpga: no measured cost for a core of {beatBytes}-byte beats"),
    };

    /// <summary>
    /// Everything but the cores and the block RAM: controller, load unit, special-function unit, binary32 engine,
    /// quantizer, writeback. LLaMA-2-7B's decode design less its core, plus what widening the SFU to four lanes added
    /// (Yosys on each block alone, before and after: element-wise DSP 25 → 88, LUT 8 097 → 31 317, FF 225 → 288; rope DSP
    /// 16 → 40, LUT 15 026 → 32 696, FF 352 → 450; rms_norm DSP 10 → 22, LUT 5 996 → 11 344, FF 898 → 900).
    /// </summary>
    public static ResourceEstimate MeasuredSharedLogic { get; } =
        new ResourceEstimate(161 - 37, 173_498 - 11_832, 8_765 - 3_110, 0, 0) + new ResourceEstimate(63 + 24 + 12, 23_220 + 17_670 + 5_348, 63 + 98 + 2, 0, 0);

    /// <summary>BRAM36 per 36 Kb of on-chip buffer and instruction memory, as Yosys mapped LLaMA-2-7B's decode design (two read ports, 128- and 160-bit words).</summary>
    public const double BramPerBlock = 1.63;

    /// <summary>The single-port matrix engine, rendered for LLaMA-2-7B's activation buffer (Yosys, <c>accel_matrix</c> alone).</summary>
    public static ResourceEstimate MeasuredLegacyEngine { get; } = new(80, 121_513, 6_550, 11, 0);

    /// <summary>The shared part for a design with these buffers and instruction memory, and the single-port engine where <paramref name="legacyMatrix"/>.</summary>
    public static ResourceEstimate Shared(OnChipBuffers buffers, int programDepth, bool legacyMatrix)
    {
        double bits = ((double)buffers.ActivationUnits + 2.0 * buffers.KvUnits + buffers.ParameterUnits) * 128 + (double)programDepth * 160;
        var shared = MeasuredSharedLogic + new ResourceEstimate(0, 0, 0, Math.Ceiling(BramPerBlock * bits / 36_864), 0);
        return legacyMatrix ? shared + MeasuredLegacyEngine : shared;
    }

    public static ResourceEstimate Estimate(AcceleratorShape shape, bool sparse, ResourceEstimate shared) => shared + (long)shape.Cores * MeasuredCore(shape.BeatBytes, sparse);

    /// <summary>The configuration that streams the most of <paramref name="device"/>'s weight memory within <see cref="Utilisation"/> of its resources.</summary>
    public static Choice For(FpgaDevice device, bool sparse, ResourceEstimate shared)
    {
        Choice? best = null;
        foreach (int beat in AcceleratorShape.Beats)
            for (int cores = 1; cores <= AcceleratorShape.MaxCores; cores *= 2)
            {
                var shape = new AcceleratorShape(cores, beat);
                var estimate = Estimate(shape, sparse, shared);
                if (estimate.Exceeding(device, Utilisation).Count > 0) continue;
                double stream = cores * CorePort.Of(device, shape).BytesPerCycle;
                // more bandwidth first; for the same, fewer LUTs
                if (best is null || stream > best.StreamBytesPerCycle + 1e-9 || (Math.Abs(stream - best.StreamBytesPerCycle) <= 1e-9 && estimate.Lut < best.Estimate.Lut))
                    best = new Choice(shape, estimate, stream);
            }
        return best ?? throw new CodesignException(
            $"fpga: even one core ({Estimate(AcceleratorShape.Minimal, sparse, shared).Summary}) exceeds {Utilisation:P0} of the {device.Name}'s resources");
    }

    /// <summary>Refuses a configuration whose estimate exceeds <paramref name="device"/>'s resources, naming each.</summary>
    public static void Check(AcceleratorShape shape, bool sparse, ResourceEstimate shared, FpgaDevice device)
    {
        var over = Estimate(shape, sparse, shared).Exceeding(device);
        if (over.Count > 0)
            throw new CodesignException($"fpga: {shape} do not fit the {device.Name} ({device.Part}): estimated {string.Join(", ", over)} (shared {shared.Summary}; a core {MeasuredCore(shape.BeatBytes, sparse).Summary})");
    }
}
