using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;
using static Codesign.Backends.Fpga.Tests.FunctionalAcceleratorTests;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// Sizing the matrix cores for a device (CoreFit): the configuration chosen streams the most of the weight memory within
/// three quarters of every resource, and the estimate it chooses by is checked against Yosys on whole designs.
/// </summary>
public class CoreFitTests
{
    private static readonly OnChipBuffers SevenB = new(21522, 32768, 1025);

    /// <summary>The same with attention on the cores: no KV tiles on chip (a line each).</summary>
    private static readonly OnChipBuffers SevenBOnTheCores = new(21522, 1, 1025);

    /// <summary>
    /// LLaMA-2-7B with every matrix and attention on the cores (no binary32 engine): dense, a 128-lane core per HBM
    /// channel; 2:4, 64 lanes behind each channel's 64-byte port, since a 2:4 beat of 64 lanes already spans a g128
    /// group and 128 would leave it half empty (and 32 such cores would pass three quarters of the LUTs).
    /// </summary>
    [Test]
    public void The_u280_gets_a_core_per_hbm_channel_with_lanes_sized_for_the_rows()
    {
        var u280 = FpgaDevices.Load("u280");
        var shared = CoreFit.Shared(SevenBOnTheCores, 1 << 16, legacyMatrix: false, binary32Engine: false);
        MatrixWork[] Work(bool sparse) => [new(4096, 4096, 4, 128, sparse, sparse ? 4096L * 4096 * 3 / 8 : 4096L * 4096 / 2), new(11008, 4096, 4, 128, sparse, sparse ? 11008L * 4096 * 3 / 8 : 11008L * 4096 / 2)];
        var dense = CoreFit.For(u280, SparseMux.None, shared, Work(false));
        // 32 cores of 64-byte beats: each of the 32 pseudo channels' 63.9 bytes a 225 MHz cycle, all of the HBM
        Assert.That(dense.Shape, Is.EqualTo(new AcceleratorShape(32, 64)));
        Assert.That(dense.StreamBytesPerCycle, Is.EqualTo(460e9 / 225e6).Within(1e-6));
        Assert.That(dense.Estimate.Exceeding(u280, CoreFit.Utilisation), Is.Empty);
        var sparse = CoreFit.For(u280, SparseMux.TwoOfFour, shared, Work(true));
        Assert.That(sparse.Shape, Is.EqualTo(new AcceleratorShape(32, 64, 32)));
        Assert.That(CoreFit.Estimate(new AcceleratorShape(32, 64), SparseMux.TwoOfFour, shared).Exceeding(u280, CoreFit.Utilisation), Is.Not.Empty);
        // the same rows take as many cycles on 128 lanes as on 64, and twice as many on half as many cores
        var port = Simulation.CorePort.Of(u280, sparse.Shape).BytesPerCycle;
        Assert.That(Work(true).Sum(m => m.Cycles(new AcceleratorShape(32, 64), port)), Is.EqualTo(Work(true).Sum(m => m.Cycles(sparse.Shape, port))));
        Assert.That(Work(true).Sum(m => m.Cycles(new AcceleratorShape(16, 64), port)), Is.EqualTo(2 * Work(true).Sum(m => m.Cycles(sparse.Shape, port))).Within(0.1).Percent);
    }

    /// <summary>With the binary32 engine (an f32 lm_head or f32 attention) the shared logic is about 100 000 LUTs larger: fewer cores fit.</summary>
    [Test]
    public void The_binary32_engine_costs_cores()
    {
        var u280 = FpgaDevices.Load("u280");
        var with = CoreFit.Shared(SevenB, 1 << 16, legacyMatrix: false, binary32Engine: true);
        var without = CoreFit.Shared(SevenB, 1 << 16, legacyMatrix: false, binary32Engine: false);
        Assert.That(with.Lut - without.Lut, Is.EqualTo(CoreFit.MeasuredBinary32Engine.Lut));
        Assert.That(CoreFit.For(u280, SparseMux.None, with).Shape.Cores, Is.LessThan(CoreFit.For(u280, SparseMux.None, without).Shape.Cores));
    }

    [Test]
    public void A_configuration_past_the_device_is_refused_naming_the_resources()
    {
        var zcu104 = FpgaDevices.Load("zcu104");
        var shared = CoreFit.Shared(new OnChipBuffers(2000, 1024, 65), 1 << 16, legacyMatrix: false);
        Assert.That(() => CoreFit.Check(new AcceleratorShape(64, 64), SparseMux.None, shared, zcu104),
            Throws.TypeOf<CodesignException>().With.Message.StartWith("fpga: 64 cores x 128 lanes (64-byte beats) do not fit the zcu104 (xczu7ev-ffvc1156-2-e): estimated DSP").And.Message.Contain("LUT"));
        Assert.That(() => CoreFit.Check(new AcceleratorShape(1, 16), SparseMux.None, shared, FpgaDevices.Load("u280")), Throws.Nothing);
    }

    /// <summary>
    /// The ZCU104's 312 BRAM36 cannot hold the 64 Ki-instruction memory the U280 shares between designs (464 BRAM36 by
    /// the fit's rate), so its designs get what their programs need, and cores then fit.
    /// </summary>
    [Test]
    public void A_small_part_gets_the_instruction_memory_its_programs_need_and_then_fits_cores()
    {
        var zcu104 = FpgaDevices.Load("zcu104");
        Assert.That(FpgaCompilation.ProgramFloorFor(FpgaDevices.Load("u280")), Is.EqualTo(Rtl.AcceleratorRtl.DefaultProgramDepth));
        Assert.That(FpgaCompilation.ProgramFloorFor(null), Is.EqualTo(Rtl.AcceleratorRtl.DefaultProgramDepth));
        Assert.That(FpgaCompilation.ProgramFloorFor(zcu104), Is.EqualTo(1));
        Assert.That(Rtl.AcceleratorRtl.ProgramDepthFor(3000, 1), Is.EqualTo(4096));
        var buffers = new OnChipBuffers(9000, 1, 513);  // TinyLlama-1.1B's decode with attention on the cores, about
        Assert.That(() => CoreFit.For(zcu104, SparseMux.None, CoreFit.Shared(buffers, Rtl.AcceleratorRtl.DefaultProgramDepth, false, false)),
            Throws.TypeOf<CodesignException>().With.Message.Contain("even one core"));
        var fit = CoreFit.For(zcu104, SparseMux.None, CoreFit.Shared(buffers, 4096, false, false));
        Assert.That(fit.Shape.Cores * fit.Shape.BeatBytes, Is.GreaterThanOrEqualTo(64));
        Assert.That(fit.Estimate.Exceeding(zcu104, CoreFit.Utilisation), Is.Empty);
    }

    [Test]
    public void More_bandwidth_than_the_memory_has_is_not_chosen_over_fewer_luts()
    {
        // one DDR channel of 96 bytes a 200 MHz cycle, 16 of which the system port takes: two 64-byte cores stream all
        // of it, and so would four; the fit takes the fewest LUTs among equals
        var edge = FpgaDevices.Load("zcu104") with { Resources = new FpgaResources(9024, 13_000_000, 26_000_000, 20_000, 960, 1) };
        var choice = CoreFit.For(edge, SparseMux.None, CoreFit.Shared(new OnChipBuffers(2000, 1024, 65), 1 << 16, false));
        Assert.That(choice.StreamBytesPerCycle, Is.EqualTo(80).Within(1e-9));
        Assert.That(choice.Shape.Cores * choice.Shape.BeatBytes, Is.LessThanOrEqualTo(128));
    }
}
