using System.Runtime.InteropServices;
using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>Compiles one kernel spec and calls it on managed arrays (pinned for the call), split over threads.</summary>
internal sealed class KernelHarness : IDisposable
{
    private readonly JitKernelLibrary _library;
    private readonly List<GCHandle> _pins = [];
    private readonly string _name;

    public KernelHarness(IKernelSpec spec)
    {
        _name = spec.Name;
        _library = new JitKernelLibrary([spec], keepIr: true);
    }

    public string Ir => _library.LlvmIr!;

    public long Pin(Array data)
    {
        var h = GCHandle.Alloc(data, GCHandleType.Pinned);
        _pins.Add(h);
        return h.AddrOfPinnedObject();
    }

    public void Run(long[] slots, long items, int threads = 2) =>
        new KernelLauncher(threads).Launch(_library.Address(_name), slots, items, cost: 1 << 14);

    public void Dispose()
    {
        foreach (var h in _pins) h.Free();
        _library.Dispose();
    }
}
