namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// Runs a kernel over its work items on up to <see cref="Threads"/> cores: the items are split into one
/// contiguous range per thread (weight rows stay with one core, so each weight byte is read once).
/// Small launches stay on the calling thread.
/// </summary>
public sealed unsafe class KernelLauncher(int threads)
{
    public int Threads { get; } = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads));

    /// <param name="cost">Rough work per item (e.g. K for a matmul column) to decide whether threading pays.</param>
    public void Launch(nint kernel, long[] slots, long items, long cost = 1)
    {
        if (items <= 0) return;
        var fn = (delegate* unmanaged<long*, long, long, void>)kernel;
        int parts = (int)Math.Min(Threads, items);
        if (parts == 1 || items * cost < 1 << 14)
        {
            fixed (long* s = slots) fn(s, 0, items);
            return;
        }
        fixed (long* s = slots)
        {
            nint sp = (nint)s;
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
            {
                long begin = items * p / parts, end = items * (p + 1) / parts;
                fn((long*)sp, begin, end);
            });
        }
    }
}
