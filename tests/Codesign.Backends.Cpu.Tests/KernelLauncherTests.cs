using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Codesign.Backends.Cpu.Execution;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>The launcher's work split and its spinning/sleeping workers, with a managed stand-in for a kernel.</summary>
public unsafe class KernelLauncherTests
{
    /// <summary>Kernel ABI stand-in: slots[0] points to an int per item; each item of [begin, end) is counted.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void CountItems(long* slots, long begin, long end)
    {
        int* counts = (int*)slots[0];
        for (long i = begin; i < end; i++) Interlocked.Increment(ref counts[i]);
    }

    private static void LaunchAndCheck(KernelLauncher launcher, int items)
    {
        var counts = GC.AllocateArray<int>(items, pinned: true);
        fixed (int* p = counts)
            launcher.Launch((nint)(delegate* unmanaged[Cdecl]<long*, long, long, void>)&CountItems, [(long)p], items, cost: 1 << 14);
        Assert.That(counts, Is.All.EqualTo(1), "every item exactly once");
    }

    [Test]
    public void Every_item_runs_exactly_once_on_fresh_busy_and_idle_launchers()
    {
        var run = Task.Run(() =>
        {
            // Fresh launchers, launched at once: a worker that starts after the first launch must still take its part.
            for (int i = 0; i < 200; i++)
            {
                using var fresh = new KernelLauncher(1 + i % 4);
                LaunchAndCheck(fresh, 37 + i);
            }
            using var launcher = new KernelLauncher(3);
            for (int i = 0; i < 2000; i++) LaunchAndCheck(launcher, 1 + i % 50);
            // Idle past the spin budget, so the workers block and must be woken.
            for (int i = 0; i < 5; i++)
            {
                Thread.Sleep(20);
                LaunchAndCheck(launcher, 1000);
            }
        });
        Assert.That(run.Wait(TimeSpan.FromMinutes(2)), Is.True, "a launch hung");
        run.GetAwaiter().GetResult();
    }

    [Test]
    public void A_disposed_launcher_refuses_work_and_stops_its_threads()
    {
        var launcher = new KernelLauncher(2);
        LaunchAndCheck(launcher, 100);
        launcher.Dispose();
        launcher.Dispose();
        Assert.That(() => LaunchAndCheck(launcher, 100), Throws.TypeOf<ObjectDisposedException>());
    }
}
