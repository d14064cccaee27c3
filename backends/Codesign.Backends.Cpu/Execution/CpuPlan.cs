using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Lowering;
using Codesign.IR.Analysis;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// A graph lowered for the cpu, before any code exists: the lowered graph, one step per node in topological order,
/// the weights in the forms those steps read, and the kernels they need. The JIT compiles <see cref="Kernels"/>
/// in-process; an ahead-of-time build writes them to a shared object and the weights to the artifact.
/// </summary>
public sealed class CpuPlan : IDisposable
{
    private CpuPlan(Graph graph, PreparedWeights weights, IReadOnlyList<CpuStep> steps, IReadOnlyList<LutDecision> decisions)
    {
        Graph = graph;
        Weights = weights;
        Steps = steps;
        LutDecisions = decisions;
    }

    public Graph Graph { get; }
    public PreparedWeights Weights { get; }
    public IReadOnlyList<CpuStep> Steps { get; }
    public IReadOnlyList<LutDecision> LutDecisions { get; }
    public IEnumerable<IKernelSpec> Kernels => Steps.SelectMany(s => s.Kernels).DistinctBy(k => k.Name);

    /// <summary>Verifies <paramref name="graph"/>, applies lut-lower per <paramref name="lut"/> (to a copy) and lowers every node.</summary>
    public static CpuPlan Lower(Graph graph, IWeightStore store, LutChoice lut)
    {
        Verifier.Verify(graph);
        (graph, var decisions) = LutLowering.Apply(graph, lut);
        return Build(graph, new PreparedWeights(store), decisions);
    }

    /// <summary>Lowers a graph that was lowered for the cpu before (an artifact's), with its weights already prepared.</summary>
    public static CpuPlan Lowered(Graph graph, PreparedWeights weights)
    {
        Verifier.Verify(graph);
        return Build(graph, weights, []);
    }

    private static CpuPlan Build(Graph graph, PreparedWeights weights, IReadOnlyList<LutDecision> decisions)
    {
        try
        {
            var steps = GraphAnalysis.TopologicalOrder(graph).Select(n => NodeLowering.Lower(n, weights)).ToArray();
            return new CpuPlan(graph, weights, steps, decisions);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    public void Dispose() => Weights.Dispose();
}
