namespace Codesign.Compiler.Partitioning;

/// <summary>
/// What the placement cost model knows of a device: how fast it streams weights and computes, what each kernel
/// launch costs, and how values reach it from the host (a device in host memory has no link: <see cref="LinkBytesPerSecond"/>
/// is infinite and <see cref="LinkLatencySeconds"/> zero).
/// </summary>
public sealed record DeviceProfile(string Name, double MemoryBytesPerSecond, double FlopsPerSecond, double LaunchSeconds,
    double LinkBytesPerSecond = double.PositiveInfinity, double LinkLatencySeconds = 0)
{
    /// <summary>Seconds to move <paramref name="bytes"/> between this device and the host.</summary>
    public double LinkSeconds(long bytes) => double.IsPositiveInfinity(LinkBytesPerSecond) ? LinkLatencySeconds : LinkLatencySeconds + bytes / LinkBytesPerSecond;
}
