using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Lowering;
using Codesign.IR.Analysis;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// A graph compiled for the cpu: one LLVM kernel per distinct (op, shape, scheme), JIT-compiled for this CPU,
/// run node by node in topological order with each kernel's work split across <see cref="Threads"/> cores.
/// Intermediate tensors are dropped after their last use.
/// </summary>
public sealed class CpuProgram : IDisposable
{
    private readonly CpuPlan _plan;
    private readonly IKernelLibrary _kernels;
    private readonly IReadOnlyDictionary<Node, List<Value>> _lastUses;
    private readonly KernelLauncher _launcher;
    private readonly bool _ownsLauncher;

    private CpuProgram(CpuPlan plan, IKernelLibrary kernels, int threads, KernelLauncher? launcher)
    {
        _plan = plan;
        _kernels = kernels;
        _lastUses = GraphAnalysis.LastUses(plan.Graph, plan.Steps.Select(s => s.Node).ToArray());
        _ownsLauncher = launcher is null;
        _launcher = launcher ?? new KernelLauncher(threads > 0 ? threads : Environment.ProcessorCount);
        foreach (var step in plan.Steps)
            for (int i = 0; i < step.Kernels.Count; i++) step.Addresses[i] = kernels.Address(step.Kernels[i].Name);
    }

    public Graph Graph => _plan.Graph;
    public int Threads => _launcher.Threads;

    /// <summary>Wall time spent in kernels so far (for utilisation: busy time over elapsed time; shared with the programs sharing the launcher).</summary>
    public TimeSpan KernelTime => _launcher.Busy;
    public IEnumerable<IKernelSpec> Kernels => _plan.Kernels;

    /// <summary>The weights in the forms the kernels read.</summary>
    public PreparedWeights Weights => _plan.Weights;
    public string? LlvmIr => (_kernels as JitKernelLibrary)?.LlvmIr;

    /// <summary>What the cpu's lut-lower chose per quantized layer (empty when the graph has none, or was lowered before).</summary>
    public IReadOnlyList<LutDecision> LutDecisions => _plan.LutDecisions;

    /// <summary>
    /// Lowers <paramref name="graph"/> for the cpu (lut-lower per <paramref name="lut"/>; <see cref="Graph"/> is the
    /// result, the graph the interpreter must run to compare) and JIT-compiles its kernels for this CPU.
    /// </summary>
    /// <param name="launcher">
    /// Cores shared with other programs (the cpu segments of a partitioned graph), which would otherwise each keep
    /// spinning workers competing for the same cores; the caller disposes it. Null: a launcher of <paramref name="threads"/> of its own.
    /// </param>
    public static CpuProgram Compile(Graph graph, IWeightStore weights, int threads = 0, bool keepIr = false, LutChoice lut = LutChoice.Auto, KernelLauncher? launcher = null) =>
        Assemble(CpuPlan.Lower(graph, weights, lut), plan => new JitKernelLibrary(plan.Kernels, keepIr), threads, launcher);

    /// <summary>A program over kernels compiled before (e.g. an artifact's shared object): no LLVM is involved.</summary>
    public static CpuProgram Load(CpuPlan plan, Func<CpuPlan, IKernelLibrary> kernels, int threads = 0, KernelLauncher? launcher = null) =>
        Assemble(plan, kernels, threads, launcher);

    private static CpuProgram Assemble(CpuPlan plan, Func<CpuPlan, IKernelLibrary> kernels, int threads, KernelLauncher? launcher)
    {
        IKernelLibrary? library = null;
        try
        {
            library = kernels(plan);
            return new CpuProgram(plan, library, threads, launcher);
        }
        catch
        {
            library?.Dispose();
            plan.Dispose();
            throw;
        }
    }

    /// <summary>Runs the graph once; inputs by name (i32 ids/positions or f32), outputs by name.</summary>
    public IReadOnlyDictionary<string, CpuTensor> Run(IReadOnlyDictionary<string, CpuTensor> inputs, KvCache cache) => Run(inputs, KvBatch.Single(cache));

    /// <summary>
    /// <see cref="Run(IReadOnlyDictionary{string, CpuTensor}, KvBatch)"/> for callers that hold host tensors (sessions,
    /// the segments of a placement, batched serving): the arrays are wrapped both ways, not copied.
    /// </summary>
    public IReadOnlyDictionary<string, HostTensor> RunHost(IReadOnlyDictionary<string, HostTensor> inputs, KvBatch batch) =>
        Run(inputs.ToDictionary(kv => kv.Key, kv => CpuTensor.From(kv.Value)), batch).ToDictionary(kv => kv.Key, kv => kv.Value.ToHost());

    /// <summary>Runs several sequences' tokens stacked in one call, each with its own cache (<see cref="KvBatch"/>).</summary>
    public IReadOnlyDictionary<string, CpuTensor> Run(IReadOnlyDictionary<string, CpuTensor> inputs, KvBatch batch)
    {
        var env = new Dictionary<Value, CpuTensor>();
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var input in Graph.Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out var t))
                throw new CodesignException($"graph @{Graph.Name}: input %{input.Name} was not given");
            GraphBinding.BindInput(Graph, input, t.Ints is not null, t.Shape, symbols, $"[{string.Join(", ", t.Shape)}] {(t.Ints is null ? "f32" : "i32")}");
            env[input] = t;
        }
        var state = new CpuRunState(env, symbols, batch, _launcher);
        foreach (var step in _plan.Steps)
        {
            step.Run(state);
            foreach (var dead in _lastUses[step.Node]) env.Remove(dead);
        }
        return Graph.Outputs.ToDictionary(v => v.Name, v => env[v]);
    }

    public void Dispose()
    {
        if (_ownsLauncher) _launcher.Dispose();
        _kernels.Dispose();
        _plan.Dispose();
    }
}
