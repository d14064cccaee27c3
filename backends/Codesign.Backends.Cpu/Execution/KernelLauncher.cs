namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// Runs a kernel over its work items on up to <see cref="Threads"/> cores: the items are split into one
/// contiguous range per thread (weight rows stay with one core, so each weight byte is read once). The calling
/// thread takes the first range; <see cref="Threads"/> − 1 dedicated workers take the others. A decode step is
/// hundreds of launches of well under a millisecond, so workers spin briefly between launches instead of
/// sleeping (a wake-up costs tens of microseconds) and only block after <see cref="SpinBudget"/> without work.
/// Small launches stay on the calling thread. One launch at a time; dispose to stop the workers.
/// </summary>
public sealed unsafe class KernelLauncher : IDisposable
{
    private static readonly TimeSpan SpinBudget = TimeSpan.FromMilliseconds(1);

    private readonly Worker[] _workers;
    private readonly object _launchLock = new();
    private long _generation;
    private int _pending;
    private nint _kernel;
    private long* _slots;
    private long _items;
    private int _parts;
    private volatile bool _stopping;
    private long _busyTicks;

    public KernelLauncher(int threads)
    {
        Threads = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads));
        // Workers start from generation 0 as constructed: one that starts after the first launch still runs its part.
        _workers = Enumerable.Range(1, threads - 1).Select(part => new Worker(this, part)).ToArray();
    }

    public int Threads { get; }

    /// <summary>Wall time spent inside launches so far (the kernels running on any of the cores).</summary>
    public TimeSpan Busy => System.Diagnostics.Stopwatch.GetElapsedTime(0, _busyTicks);

    /// <param name="cost">Rough work per item (e.g. K for a matmul column) to decide whether threading pays.</param>
    public void Launch(nint kernel, long[] slots, long items, long cost = 1)
    {
        if (items <= 0) return;
        ObjectDisposedException.ThrowIf(_stopping, this);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            Run(kernel, slots, items, cost);
        }
        finally
        {
            _busyTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        }
    }

    private void Run(nint kernel, long[] slots, long items, long cost)
    {
        var fn = (delegate* unmanaged<long*, long, long, void>)kernel;
        int parts = (int)Math.Min(Threads, items);
        fixed (long* s = slots)
        {
            if (parts == 1 || items * cost < 1 << 14)
            {
                fn(s, 0, items);
                return;
            }
            lock (_launchLock)
            {
                _kernel = kernel;
                _slots = s;
                _items = items;
                _parts = parts;
                Volatile.Write(ref _pending, parts - 1);
                Interlocked.Increment(ref _generation);
                foreach (var w in _workers) w.WakeIfSleeping();
                fn(s, 0, items / parts);
                var spin = new SpinWait();
                while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        Interlocked.Increment(ref _generation);
        foreach (var w in _workers) w.Stop();
    }

    /// <summary>A dedicated thread that runs range <c>part</c> of each launch that has that many parts.</summary>
    private sealed class Worker
    {
        private readonly KernelLauncher _owner;
        private readonly int _part;
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private int _sleeping;

        public Worker(KernelLauncher owner, int part)
        {
            _owner = owner;
            _part = part;
            _thread = new Thread(Loop) { IsBackground = true, Name = $"codesign-kernels-{part}" };
            _thread.Start();
        }

        /// <summary>Called after a new generation is published (a full fence): a worker that went to sleep before seeing it is woken.</summary>
        public void WakeIfSleeping()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Set();
        }

        public void Stop()
        {
            WakeIfSleeping();
            _wake.Set();
            _thread.Join();
            _wake.Dispose();
        }

        private void Loop()
        {
            long seen = 0;
            while (true)
            {
                long now = WaitForGeneration(seen);
                seen = now;
                if (_owner._stopping) return;
                int parts = _owner._parts;
                if (_part >= parts) continue;
                long items = _owner._items, begin = items * _part / parts, end = items * (_part + 1) / parts;
                ((delegate* unmanaged<long*, long, long, void>)_owner._kernel)(_owner._slots, begin, end);
                Interlocked.Decrement(ref _owner._pending);
            }
        }

        private long WaitForGeneration(long seen)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var spin = new SpinWait();
            while (true)
            {
                long now = Volatile.Read(ref _owner._generation);
                if (now != seen) return now;
                if (clock.Elapsed < SpinBudget)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                // Announce the sleep (a full fence), then look again: a launch published in between is either seen
                // here or sees the flag and sets the event.
                Interlocked.Exchange(ref _sleeping, 1);
                now = Volatile.Read(ref _owner._generation);
                if (now != seen)
                {
                    Interlocked.Exchange(ref _sleeping, 0);
                    return now;
                }
                _wake.Wait();
                _wake.Reset();
                clock.Restart();
                spin = new SpinWait();
            }
        }
    }
}
