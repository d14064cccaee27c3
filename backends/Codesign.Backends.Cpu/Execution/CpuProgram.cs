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
    private readonly PreparedWeights _weights;
    private readonly IKernelLibrary _kernels;
    private readonly IReadOnlyList<CpuStep> _steps;
    private readonly IReadOnlyDictionary<Node, List<Value>> _lastUses;
    private readonly KernelLauncher _launcher;

    private CpuProgram(Graph graph, PreparedWeights weights, IReadOnlyList<CpuStep> steps, IKernelLibrary kernels, IReadOnlyDictionary<Node, List<Value>> lastUses, int threads)
    {
        Graph = graph;
        _weights = weights;
        _steps = steps;
        _kernels = kernels;
        _lastUses = lastUses;
        _launcher = new KernelLauncher(threads);
        foreach (var step in steps)
            for (int i = 0; i < step.Kernels.Count; i++) step.Addresses[i] = kernels.Address(step.Kernels[i].Name);
    }

    public Graph Graph { get; }
    public int Threads => _launcher.Threads;
    public IEnumerable<IKernelSpec> Kernels => _steps.SelectMany(s => s.Kernels).DistinctBy(k => k.Name);
    public string? LlvmIr => (_kernels as JitKernelLibrary)?.LlvmIr;

    /// <summary>What the cpu's lut-lower chose per quantized layer (empty when the graph has none).</summary>
    public IReadOnlyList<LutDecision> LutDecisions { get; private init; } = [];

    /// <summary>
    /// Lowers <paramref name="graph"/> for the cpu (lut-lower per <paramref name="lut"/>; <see cref="Graph"/> is the
    /// result, the graph the interpreter must run to compare) and compiles it.
    /// </summary>
    public static CpuProgram Compile(Graph graph, IWeightStore weights, int threads = 0, bool keepIr = false, LutChoice lut = LutChoice.Auto)
    {
        Verifier.Verify(graph);
        (graph, var decisions) = LutLowering.Apply(graph, lut);
        var order = GraphAnalysis.TopologicalOrder(graph);
        var prepared = new PreparedWeights(graph.Weights, weights);
        try
        {
            var steps = order.Select(n => NodeLowering.Lower(n, prepared)).ToArray();
            var library = new JitKernelLibrary(steps.SelectMany(s => s.Kernels), keepIr);
            return new CpuProgram(graph, prepared, steps, library, GraphAnalysis.LastUses(graph, order), threads > 0 ? threads : Environment.ProcessorCount) { LutDecisions = decisions };
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
    }

    /// <summary>Runs the graph once; inputs by name (i32 ids/positions or f32), outputs by name.</summary>
    public IReadOnlyDictionary<string, CpuTensor> Run(IReadOnlyDictionary<string, CpuTensor> inputs, KvCache cache)
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
        var state = new CpuRunState(env, symbols, cache, _launcher);
        foreach (var step in _steps)
        {
            step.Run(state);
            foreach (var dead in _lastUses[step.Node]) env.Remove(dead);
        }
        return Graph.Outputs.ToDictionary(v => v.Name, v => env[v]);
    }

    public void Dispose()
    {
        _kernels.Dispose();
        _weights.Dispose();
    }
}
