using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>What one forward call's steps share: live tensors, bound dimension symbols, the KV cache, the launcher.</summary>
public sealed class CpuRunState(Dictionary<Value, CpuTensor> env, Dictionary<string, long> symbols, KvCache cache, KernelLauncher launcher)
{
    public Dictionary<Value, CpuTensor> Env { get; } = env;
    public KvCache Cache { get; } = cache;
    public KernelLauncher Launcher { get; } = launcher;

    public int[] Resolve(TensorType type) => type.Shape.Select(d => checked((int)(d.IsSymbolic ? symbols[d.Symbol!] : d.Size))).ToArray();
}

/// <summary>One node lowered for the cpu: the kernel it needs (if any) and how to launch it on live tensors.</summary>
public sealed class CpuStep(Node node, IKernelSpec? kernel, Action<CpuRunState, nint> run)
{
    public Node Node { get; } = node;
    public IKernelSpec? Kernel { get; } = kernel;
    internal nint Address { get; set; }

    public void Run(CpuRunState state) => run(state, Address);
}
