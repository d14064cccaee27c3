using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Devices;

/// <summary>A causal-LM session on the gpu backend: the weights and this sequence's KV cache live on the device.</summary>
public sealed class GpuSession : GraphSession, IKernelTimed, IDisposable
{
    private readonly GpuProgram _program;
    private readonly GpuKvCache _cache;

    /// <summary>Takes ownership of <paramref name="program"/>.</summary>
    public GpuSession(GpuProgram program) : base(program.Graph)
    {
        _program = program;
        _cache = program.NewCache();
    }

    public TimeSpan KernelTime => _program.KernelTime;
    /// <summary>Host time spent enqueueing kernels (see <see cref="GpuProgram.EnqueueTime"/>).</summary>
    public TimeSpan EnqueueTime => _program.EnqueueTime;
    /// <summary>Steps of the last forward call that enqueued kernels (see <see cref="GpuProgram.StepsRun"/>).</summary>
    public int StepsRun => _program.StepsRun;
    public string DeviceDescription => _program.Device.Description;
    /// <summary>Bytes of weights on the device.</summary>
    public long WeightBytes => _program.WeightBytes;

    protected override float[] Run(int[] tokens, int[] positions)
    {
        var outputs = _program.Run(CausalLmGraph.Inputs(tokens, positions), _cache);
        return AsArray(outputs[LlamaGraphBuilder.LogitsOutput].Floats);
    }

    protected override void ResetDevice() => _cache.Clear();

    public void Dispose()
    {
        _cache.Dispose();
        _program.Dispose();
    }
}
