using Codesign.Backends.Gpu.Execution;
using Codesign.Backends.Gpu.Kernels;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// The prefill attention tile a CUDA group launches with: within the 48 KiB of dynamic shared memory a launch may ask
/// for (more fails on the GPU, not on the CPU accelerator), as wide as that allows.
/// </summary>
public class PrefillTilingTests
{
    private const int CudaWarps = 8;

    [TestCase(64)]
    [TestCase(80)]
    [TestCase(128)]
    [TestCase(256)]
    public void A_cuda_group_of_common_heads_fits_the_launch_shared_memory_with_whole_tiles(int headDim)
    {
        var t = PrefillTiling.For(headDim, CudaWarps, GpuGeometry.LaunchSharedBytes)!.Value;
        Assert.That(t.SharedBytes, Is.LessThanOrEqualTo(GpuGeometry.LaunchSharedBytes));
        Assert.That(t.Keys, Is.GreaterThanOrEqualTo(PrefillTiling.MinKeys));
    }

    [Test]
    public void LLaMA_heads_of_128_dims_get_full_tiles_and_every_warp()
    {
        Assert.That(PrefillTiling.For(128, CudaWarps, GpuGeometry.LaunchSharedBytes), Is.EqualTo(new PrefillTiling(32, 8, 128)));
    }

    [Test]
    public void Wider_heads_keep_as_many_keys_per_tile_as_fit_and_give_up_warps()
    {
        // More keys per tile means more lanes scoring at once; fewer warps only fewer queries sharing a tile.
        var t = PrefillTiling.For(256, CudaWarps, GpuGeometry.LaunchSharedBytes)!.Value;
        Assert.That(t, Is.EqualTo(new PrefillTiling(16, 4, 256)));
        var wider = PrefillTiling.For(512, CudaWarps, GpuGeometry.LaunchSharedBytes)!.Value;
        Assert.That((wider.Keys, wider.Warps), Is.EqualTo((8, 2)));
    }

    [Test]
    public void A_head_not_even_one_key_and_one_warp_fit_has_no_tiling()
    {
        Assert.That(PrefillTiling.For(3072, CudaWarps, GpuGeometry.LaunchSharedBytes), Is.Null);
        Assert.That(PrefillTiling.For(3071, CudaWarps, GpuGeometry.LaunchSharedBytes), Is.EqualTo(new PrefillTiling(1, 1, 3071)));
    }

    [Test]
    public void The_cpu_accelerator_is_held_to_the_cuda_launch_limit()
    {
        Assert.That(GpuHarness.Device.Geometry.SharedBytesPerGroup, Is.EqualTo(GpuGeometry.LaunchSharedBytes));
    }
}
