using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>Yosys' synthesis of the generated RTL, counted for the device check.</summary>
[Category("Yosys")]
public class ResourceReportTests
{
    [OneTimeSetUp]
    public void CheckYosys()
    {
        if (!YosysSynthesis.IsInstalled) Assert.Ignore("yosys is not installed (scripts/setup.sh installs it): the RTL cannot be synthesised here");
    }

    [Test]
    public void A_sixteen_lane_chain_maps_one_multiplier_per_lane_to_a_dsp_slice_and_fits_the_edge_part()
    {
        var chain = new MpeChainConfig(16, 16, 9, 32);
        var report = YosysSynthesis.Synthesize(new Dictionary<string, string> { ["mpe_chain.sv"] = chain.Render() }, "mpe_chain", "xcup");
        Assert.That(report.Dsp, Is.EqualTo(16), string.Join(", ", report.CellsByType));
        Assert.That(report.Ff, Is.GreaterThanOrEqualTo(2 * 16 * 32), "the accumulators and the output sums are fabric registers");
        Assert.That(report.Lut, Is.GreaterThan(0));
        Assert.That(report.CellsByType.Keys, Has.None.StartsWith("IBUF").And.None.StartsWith("OBUF"), "a block, not a top level: no I/O pads");
        Assert.That(report.Exceeding(FpgaDevices.Load("zcu104")), Is.Empty);

        var tiny = FpgaDevices.Load("zcu104") with { Resources = new FpgaResources(Dsp: 8, Lut: 100, Ff: 100_000, Bram36: 0, Uram: 0, Slr: 1) };
        Assert.That(report.Exceeding(tiny), Is.EqualTo(new[] { "DSP 16 > 8", $"LUT {report.Lut} > 100" }));
    }

    [Test]
    public void Distributed_ram_and_shift_registers_count_the_luts_they_occupy()
    {
        var report = ResourceReport.FromCells(new Dictionary<string, long> { ["LUT6"] = 10, ["RAM64M8"] = 3, ["RAM32M"] = 2, ["SRL16E"] = 5, ["FDRE"] = 7, ["RAMB18E2"] = 3, ["RAMB36E2"] = 1, ["DSP48E2"] = 4 });
        Assert.That((report.Lut, report.Ff, report.Bram36, report.Dsp), Is.EqualTo((10 + 24 + 8 + 5L, 7L, 2.5, 4L)));
        Assert.That(report.Summary, Is.EqualTo("DSP 4, LUT 47, FF 7, BRAM36 2.5, URAM 0"));
    }
}
