using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>What one forward call's steps share: live tensors, bound dimension symbols, the sequences' KV caches, the launcher.</summary>
public sealed class CpuRunState(Dictionary<Value, CpuTensor> env, Dictionary<string, long> symbols, KvBatch batch, KernelLauncher launcher)
{
    public Dictionary<Value, CpuTensor> Env { get; } = env;
    public KvBatch Batch { get; } = batch;
    public KernelLauncher Launcher { get; } = launcher;

    public int[] Resolve(TensorType type) => type.Shape.Select(d => checked((int)(d.IsSymbolic ? symbols[d.Symbol!] : d.Size))).ToArray();
}

/// <summary>One node lowered for the cpu: the kernels it needs (none, one, or a chain such as tables then lookups) and how to launch them on live tensors.</summary>
public sealed class CpuStep
{
    private readonly Action<CpuRunState, nint[]> _run;

    public CpuStep(Node node, IReadOnlyList<IKernelSpec> kernels, Action<CpuRunState, nint[]> run)
    {
        Node = node;
        Kernels = kernels;
        Addresses = new nint[kernels.Count];
        _run = run;
    }

    public CpuStep(Node node, IKernelSpec? kernel, Action<CpuRunState, nint> run)
        : this(node, kernel is null ? [] : [kernel], (s, a) => run(s, a.Length > 0 ? a[0] : 0)) { }

    public Node Node { get; }
    public IReadOnlyList<IKernelSpec> Kernels { get; }
    internal nint[] Addresses { get; }

    public void Run(CpuRunState state) => _run(state, Addresses);
}
