namespace Codesign.Runtime.Generation;

/// <summary>A session on a device that counts the wall time its kernels run (for device utilisation).</summary>
public interface IKernelTimed
{
    TimeSpan KernelTime { get; }
}
