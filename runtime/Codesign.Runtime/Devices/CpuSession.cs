using Codesign.Backends.Cpu.Execution;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Devices;

/// <summary>A causal-LM session on the cpu backend's compiled kernels.</summary>
public sealed class CpuSession(CpuProgram program, bool ownsProgram = false) : GraphSession(program.Graph), IKernelTimed, IDisposable
{
    public TimeSpan KernelTime => program.KernelTime;

    protected override float[] Run(int[] tokens, int[] positions) =>
        AsArray(program.RunHost(CausalLmGraph.Inputs(tokens, positions), KvBatch.Single(Cache))[LlamaGraphBuilder.LogitsOutput].Floats);

    public void Dispose()
    {
        if (ownsProgram) program.Dispose();
    }
}
