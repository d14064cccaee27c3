using System.Runtime.InteropServices;
using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>Compiles kernel specs into one library and calls them on managed arrays (pinned for the call), split over threads.</summary>
internal sealed class KernelHarness : IDisposable
{
    private readonly JitKernelLibrary _library;
    private readonly List<GCHandle> _pins = [];
    private readonly string[] _names;

    public KernelHarness(params IKernelSpec[] specs)
    {
        _names = [.. specs.Select(s => s.Name)];
        _library = new JitKernelLibrary(specs, keepIr: true);
    }

    public string Ir => _library.LlvmIr!;

    public long Pin(Array data)
    {
        var h = GCHandle.Alloc(data, GCHandleType.Pinned);
        _pins.Add(h);
        return h.AddrOfPinnedObject();
    }

    /// <summary>Runs the <paramref name="kernel"/>-th spec given to the constructor.</summary>
    public void Run(long[] slots, long items, int threads = 2, int kernel = 0)
    {
        using var launcher = new KernelLauncher(threads);
        launcher.Launch(_library.Address(_names[kernel]), slots, items, cost: 1 << 14);
    }

    public void Dispose()
    {
        foreach (var h in _pins) h.Free();
        _library.Dispose();
    }

    /// <summary>
    /// Compiles the one-node graph y = op(x, w) for the cpu and runs it on <paramref name="x"/> ([tokens, K]), beside the
    /// reference interpreter on the same graph; returns the program (for inspection; dispose it) and both results.
    /// </summary>
    public static (CpuProgram Program, float[] Cpu, float[] Reference) RunNode(IR.Ops.Op op, IPackedMatrix w, float[] x, int tokens)
    {
        int k = checked((int)w.Cols);
        var (g, store) = Codesign.Testing.LinearNodeGraph.Build(op, w);
        var program = CpuProgram.Compile(g, store, threads: 2);
        var y = program.Run(new Dictionary<string, CpuTensor> { ["x"] = CpuTensor.F32([tokens, k], x) }, new IR.Semantics.KvCache())["y"].Floats!;
        var expected = new IR.Semantics.ReferenceInterpreter(g, store).Run(new Dictionary<string, IR.Semantics.HostTensor> { ["x"] = IR.Semantics.HostTensor.F32([tokens, k], x) }, new IR.Semantics.KvCache())["y"].Floats.ToArray();
        return (program, y, expected);
    }
}
