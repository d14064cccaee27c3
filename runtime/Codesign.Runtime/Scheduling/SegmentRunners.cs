using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Semantics;

namespace Codesign.Runtime.Scheduling;

/// <summary>A segment on the reference interpreter.</summary>
internal sealed class InterpreterSegmentRunner(ReferenceInterpreter interpreter) : ISegmentRunner
{
    public string Device => "interpreter";
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvCache cache) => interpreter.Run(inputs, cache);
    public void Reset() { }
    public void Dispose() { }
}

/// <summary>A segment compiled by the cpu backend; inputs are copied into the pinned arrays its kernels address by pointer.</summary>
internal sealed class CpuSegmentRunner(CpuProgram program) : ISegmentRunner
{
    public string Device => "cpu";

    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvCache cache) => program.RunHost(inputs, KvBatch.Single(cache));

    public void Reset() { }
    public void Dispose() => program.Dispose();
}

/// <summary>A segment compiled by the gpu backend, with the KV cache of its attention layers on the device.</summary>
internal sealed class GpuSegmentRunner : ISegmentRunner
{
    private readonly GpuProgram _program;
    private readonly GpuKvCache _cache;

    public GpuSegmentRunner(GpuProgram program)
    {
        _program = program;
        _cache = program.NewCache();
    }

    public string Device => "gpu";
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvCache cache) => _program.Run(inputs, _cache);
    public void Reset() => _cache.Clear();

    public void Dispose()
    {
        _cache.Dispose();
        _program.Dispose();
    }
}
