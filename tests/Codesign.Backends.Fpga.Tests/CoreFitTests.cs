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

    [Test]
    public void The_u280_gets_a_core_per_hbm_channel_and_fewer_larger_sparse_cores()
    {
        var u280 = FpgaDevices.Load("u280");
        var shared = CoreFit.Shared(SevenB, 1 << 16, legacyMatrix: false);
        var dense = CoreFit.For(u280, sparse: false, shared);
        // 32 cores of 64-byte beats: each of the 32 pseudo channels' 63.9 bytes a 225 MHz cycle, all of the HBM
        Assert.That(dense.Shape, Is.EqualTo(new AcceleratorShape(32, 64)));
        Assert.That(dense.StreamBytesPerCycle, Is.EqualTo(460e9 / 225e6).Within(1e-6));
        Assert.That(dense.Estimate.Exceeding(u280, CoreFit.Utilisation), Is.Empty);
        // twice as many sparse cores would pass three quarters of the LUTs: half the bandwidth
        var sparse = CoreFit.For(u280, sparse: true, shared);
        Assert.That(sparse.Shape, Is.EqualTo(new AcceleratorShape(16, 64)));
        Assert.That(CoreFit.Estimate(new AcceleratorShape(32, 64), true, shared).Exceeding(u280, CoreFit.Utilisation), Is.Not.Empty);
    }

    [Test]
    public void A_configuration_past_the_device_is_refused_naming_the_resources()
    {
        var zcu104 = FpgaDevices.Load("zcu104");
        var shared = CoreFit.Shared(new OnChipBuffers(2000, 1024, 65), 1 << 16, legacyMatrix: false);
        Assert.That(() => CoreFit.Check(new AcceleratorShape(64, 64), false, shared, zcu104),
            Throws.TypeOf<CodesignException>().With.Message.StartWith("fpga: 64 cores x 128 lanes (64-byte beats) do not fit the zcu104 (xczu7ev-ffvc1156-2-e): estimated DSP").And.Message.Contain("LUT"));
        Assert.That(() => CoreFit.Check(new AcceleratorShape(1, 16), false, shared, FpgaDevices.Load("u280")), Throws.Nothing);
    }

    [Test]
    public void More_bandwidth_than_the_memory_has_is_not_chosen_over_fewer_luts()
    {
        // one DDR channel of 96 bytes a 200 MHz cycle, 16 of which the system port takes: two 64-byte cores stream all
        // of it, and so would four; the fit takes the fewest LUTs among equals
        var edge = FpgaDevices.Load("zcu104") with { Resources = new FpgaResources(9024, 13_000_000, 26_000_000, 20_000, 960, 1) };
        var choice = CoreFit.For(edge, sparse: false, CoreFit.Shared(new OnChipBuffers(2000, 1024, 65), 1 << 16, false));
        Assert.That(choice.StreamBytesPerCycle, Is.EqualTo(80).Within(1e-9));
        Assert.That(choice.Shape.Cores * choice.Shape.BeatBytes, Is.LessThanOrEqualTo(128));
    }
}
