using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Verification;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The fit's check: tiny-llama-a's design with two cores, synthesised whole (<see cref="WholeDesignSynthesis"/>), against
/// the estimate (shared logic and block RAM plus two measured cores). Yosys maps the same RTL the same way, so the
/// per-core and shared counts add up within the estimate's model of block RAM. (The fixture's name sorts last: NUnit runs
/// fixtures by name, and the synthesis has the other tests' time to finish in.)
/// </summary>
[Category("Yosys")]
public class WholeDesignSynthesisTests
{
    [Test]
    public void A_whole_two_core_design_synthesises_to_the_estimate()
    {
        if (!YosysSynthesis.IsInstalled) Assert.Ignore("yosys is not installed (scripts/setup.sh installs it)");
        var (model, report) = WholeDesignSynthesis.Result();
        var estimate = CoreFit.Estimate(WholeDesignSynthesis.Shape, model.Cores.Mux, CoreFit.Shared(model.Buffers, model.Rtl.ProgramDepth, model.Rtl.LegacyMatrix, model.Rtl.Binary32Engine));
        TestContext.Out.WriteLine($"yosys: {report.Summary}; estimate: {estimate.Summary}");
        Assert.That((double)report.Dsp, Is.EqualTo(estimate.Dsp).Within(5).Percent, "DSP");
        Assert.That((double)report.Lut, Is.EqualTo(estimate.Lut).Within(10).Percent, "LUT");
        Assert.That(report.Bram36, Is.EqualTo(estimate.Bram36).Within(35).Percent, "BRAM36");
    }
}
