using System.Globalization;
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
/// Sizes the matrix cores for a device: the accelerator costs what its shared part costs plus a core's cost per core
/// (both measured with Yosys 0.23, <c>synth_xilinx -family xcup</c>; <see cref="MeasuredCore"/>, <see cref="MeasuredShared"/>),
/// and the configuration chosen is the one whose cores stream the most of the weight memory's bandwidth while the
/// whole stays within <see cref="Utilisation"/> of every resource (placement and routing need the rest). Yosys packs only
/// multipliers into DSP slices, so LUT and FF counts are upper bounds of what Vivado would use.
/// </summary>
public static class CoreFit
{
    /// <summary>The share of each resource a chosen configuration may take.</summary>
    public const double Utilisation = 0.75;

    /// <summary>A configuration, its estimated resources and the bytes a cycle its cores can stream.</summary>
    public sealed record Choice(AcceleratorShape Shape, ResourceEstimate Estimate, double StreamBytesPerCycle);

    /// <summary>One core at each beat, as rendered for a 7B-class model (code banks of 11 008 codes, rings for 86 groups a row).</summary>
    public static ResourceEstimate MeasuredCore(int beatBytes) => beatBytes switch
    {
        16 => new(32, 20_000, 6_000, 0, 0),
        32 => new(64, 30_000, 9_000, 0, 0),
        64 => new(128, 50_000, 15_000, 0, 0),
        _ => throw new CodesignException($"fpga: no measured cost for a core of {beatBytes}-byte beats"),
    };

    /// <summary>Everything but the cores: controller, buffers, load unit, special-function unit, binary32 engine, quantizer, writeback.</summary>
    public static ResourceEstimate MeasuredShared { get; } = new(60, 150_000, 10_000, 300, 0);

    public static ResourceEstimate Estimate(AcceleratorShape shape) => MeasuredShared + (long)shape.Cores * MeasuredCore(shape.BeatBytes);

    /// <summary>The configuration that streams the most of <paramref name="device"/>'s weight memory within <see cref="Utilisation"/> of its resources.</summary>
    public static Choice For(FpgaDevice device)
    {
        Choice? best = null;
        foreach (int beat in AcceleratorShape.Beats)
            for (int cores = 1; cores <= AcceleratorShape.MaxCores; cores *= 2)
            {
                var shape = new AcceleratorShape(cores, beat);
                var estimate = Estimate(shape);
                if (estimate.Exceeding(device, Utilisation).Count > 0) continue;
                double stream = cores * CorePort.Of(device, shape).BytesPerCycle;
                // more bandwidth first; for the same, fewer LUTs
                if (best is null || stream > best.StreamBytesPerCycle + 1e-9 || (Math.Abs(stream - best.StreamBytesPerCycle) <= 1e-9 && estimate.Lut < best.Estimate.Lut))
                    best = new Choice(shape, estimate, stream);
            }
        return best ?? throw new CodesignException($"fpga: even one core ({Estimate(AcceleratorShape.Minimal).Summary}) exceeds {Utilisation:P0} of the {device.Name}'s resources");
    }

    /// <summary>Refuses a configuration whose estimate exceeds <paramref name="device"/>'s resources, naming each.</summary>
    public static void Check(AcceleratorShape shape, FpgaDevice device)
    {
        var estimate = Estimate(shape);
        var over = estimate.Exceeding(device);
        if (over.Count > 0)
            throw new CodesignException($"fpga: {shape} do not fit the {device.Name} ({device.Part}): estimated {string.Join(", ", over)} (shared {MeasuredShared.Summary}; a core {MeasuredCore(shape.BeatBytes).Summary})");
    }
}
