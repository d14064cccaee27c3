namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// How <see cref="AttentionKernels.Prefill"/> tiles a head: <see cref="Warps"/> queries per group (one per warp) and
/// <see cref="Keys"/> key/value rows per shared-memory tile, chosen so the group's shared memory fits the accelerator's
/// per-group limit. CUDA launches get at most 48 KiB of dynamic shared memory without an opt-in ILGPU does not make, so
/// a group that asked for more would fail at launch on a GPU while passing on the CPU accelerator.
/// </summary>
internal readonly record struct PrefillTiling(int Keys, int Warps, int HeadDim)
{
    /// <summary>Most key rows a tile holds: a score per lane of a 32-thread warp.</summary>
    public const int MaxKeys = 32;
    /// <summary>Fewest key rows a tile holds before the group gives up warps instead.</summary>
    public const int MinKeys = 8;

    /// <summary>Keys (rows padded to headDim + 1) and values, then per warp its q, its output and its tile's scores.</summary>
    public long SharedFloats => (long)Keys * (2 * HeadDim + 1) + (long)Warps * (2 * HeadDim + Keys);

    public long SharedBytes => SharedFloats * sizeof(float);

    /// <summary>
    /// The most keys per tile (down to <see cref="MinKeys"/>), then the most warps, whose shared memory fits
    /// <paramref name="sharedBytes"/>; then fewer keys with one warp. Null when not even one key and one warp fit.
    /// </summary>
    public static PrefillTiling? For(int headDim, int warpsPerGroup, long sharedBytes)
    {
        for (int keys = MaxKeys; keys >= MinKeys; keys /= 2)
            for (int warps = warpsPerGroup; warps >= 1; warps /= 2)
                if (new PrefillTiling(keys, warps, headDim) is var t && t.SharedBytes <= sharedBytes)
                    return t;
        for (int keys = MinKeys / 2; keys >= 1; keys /= 2)
            if (new PrefillTiling(keys, 1, headDim) is var t && t.SharedBytes <= sharedBytes)
                return t;
        return null;
    }
}
