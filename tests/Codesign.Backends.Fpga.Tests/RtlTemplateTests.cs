using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The templates render for every shape the compiler may choose, and what they render lints clean under -Wall.</summary>
[Category("Verilator")]
public class RtlTemplateTests : RequiresVerilator
{
    [TestCase(16, 16, 9, 32), TestCase(2, 2, 2, 12), TestCase(8, 16, 9, 24), TestCase(32, 16, 5, 40), TestCase(64, 64, 9, 48)]
    public void The_matrix_engine_chain_lints_clean(int lanes, int window, int weightBits, int accBits) =>
        Assert.That(() => Verilator.Lint(new Dictionary<string, string> { ["mpe_chain.sv"] = new MpeChainConfig(lanes, window, weightBits, accBits).Render() }, "mpe_chain"), Throws.Nothing);

    [Test]
    public void The_dequantize_unit_and_its_float_units_lint_clean() =>
        Assert.That(() => Verilator.Lint(GroupDequantRtl.Render("cs_"), "cs_group_dequant"), Throws.Nothing);

    [Test]
    public void The_exponential_lints_clean() =>
        Assert.That(() => Verilator.Lint(new Dictionary<string, string> { ["fp32_exp.sv"] = Fp32ExpRtl.Render() }, "fp32_exp"), Throws.Nothing);

    [Test]
    public void The_divider_lints_clean() =>
        Assert.That(() => Verilator.Lint(new Dictionary<string, string> { ["fp32_div.sv"] = RtlTemplates.Render("fp32_div", new Dictionary<string, object> { ["module_name"] = "fp32_div" }) }, "fp32_div"), Throws.Nothing);

    // 16804 activation lines: tiny-llama-a's design with chunks of 8, whose code buffer is the largest, 65535 words
    [TestCase(1500, 64, 33, 4096), TestCase(1, 1, 1, 1), TestCase(3, 2, 17, 7), TestCase(16804, 2048, 65, 65536)]
    public void The_whole_accelerator_lints_clean(int activationLines, int kvLines, int parameterLines, int programDepth) =>
        Assert.That(() => Verilator.Lint(new AcceleratorRtl(new(activationLines, kvLines, parameterLines), programDepth).Render(), AcceleratorRtl.Top), Throws.Nothing);

    /// <summary>
    /// Designs of each core beat, lanes as wide as the beat or narrower, sparse (2:4 and 4:8, or 2:4 only) or dense (no
    /// offset ring and sparse MUX), with or without the single-port engine and the binary32 engine.
    /// </summary>
    [TestCase(1, 16, 16, true, true, true, true), TestCase(4, 32, 32, false, false, false, true), TestCase(2, 64, 64, true, false, false, false),
     TestCase(8, 16, 16, false, false, true, false), TestCase(2, 32, 32, true, true, false, false), TestCase(2, 64, 32, true, false, false, false),
     TestCase(4, 32, 16, true, true, false, true), TestCase(2, 64, 16, false, false, false, false)]
    public void The_accelerator_with_matrix_cores_lints_clean(int cores, int beat, int laneBytes, bool sparse, bool fourOfEight, bool legacy, bool binary32) =>
        Assert.That(() => Verilator.Lint(new AcceleratorRtl(new(300, 64, 33), 4096)
        {
            Cores = Cores.MatrixCoreDesign.For(new Cores.AcceleratorShape(cores, beat, laneBytes), 11008, 172, 86, 2752, [128], sparse, fourOfEight), LegacyMatrix = legacy,
            Binary32Engine = binary32,
        }.Render(), AcceleratorRtl.Top), Throws.Nothing);

    [Test]
    public void Lint_reports_a_warning_as_an_error_naming_the_file() =>
        Assert.That(() => Verilator.Lint(new Dictionary<string, string> { ["bad.sv"] = "module bad (input wire [3:0] a, output wire [1:0] y);\n  assign y = a;\nendmodule\n" }, "bad"),
            Throws.TypeOf<CodesignException>().With.Message.Contain("bad.sv:2").And.Message.Contain("WIDTH"));
}

/// <summary>Rendering errors: a template is never rendered with a parameter missing or a shape the RTL cannot take.</summary>
public class RtlTemplateRenderingTests
{
    [Test]
    public void Every_template_is_embedded_and_a_missing_one_is_named()
    {
        Assert.That(RtlTemplates.Names, Does.Contain("mpe_chain"));
        Assert.That(() => RtlTemplates.Render("no_such_block", new Dictionary<string, object>()),
            Throws.TypeOf<CodesignException>().With.Message.Contain("hdl-templates/no_such_block.sv.sbn: no such RTL template (there are: ").And.Message.Contain("mpe_chain"));
    }

    [Test]
    public void A_parameter_the_template_uses_but_was_not_given_is_an_error_not_an_empty_string()
    {
        var e = Assert.Throws<CodesignException>(() => RtlTemplates.Render("mpe_chain", new Dictionary<string, object> { ["module_name"] = "m", ["lanes"] = 4 }))!;
        Assert.That(e.Message, Does.StartWith("hdl-templates/mpe_chain.sv.sbn: ").And.Contain("window"));
    }

    [TestCase(12, 16, 9, 32, "lanes 12 must be a power of two")]
    [TestCase(16, 3, 9, 32, "window 3 must be a power of two")]
    [TestCase(16, 16, 1, 32, "weight_bits 1 must be 2 to 16")]
    [TestCase(16, 16, 9, 20, "acc_bits 20 must hold a full beat (21 bits)")]
    public void A_chain_shape_the_rtl_cannot_take_is_refused(int lanes, int window, int weightBits, int accBits, string message) =>
        Assert.That(() => new MpeChainConfig(lanes, window, weightBits, accBits).Render(), Throws.TypeOf<CodesignException>().With.Message.Contain(message));
}

/// <summary>Reviewed generated RTL: a change to the template shows up here as a diff to review, not silently.</summary>
public class RtlGoldenTests
{
    [Test]
    public void A_four_lane_chain_renders_the_reviewed_verilog() =>
        Assert.That(new MpeChainConfig(4, 4, 9, 24).Render(),
            Is.EqualTo(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Golden", "mpe_chain_4x4.sv"))));
}
