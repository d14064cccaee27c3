using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Calibration;

/// <summary>
/// Runs a causal-LM graph (the importer's %tokens, %positions signature) on the reference interpreter over a calibration set and gathers <see cref="InputStatistics"/>
/// for the activations entering the given linear layers (keyed by the activation value, so layers that
/// share an input share its statistics).
/// </summary>
public static class CalibrationCollector
{
    public static Dictionary<Value, InputStatistics> Collect(Graph graph, IWeightStore weights, CalibrationSet set,
        IEnumerable<Node> linearNodes, bool withHessian, int sampleRows = 512)
    {
        var wanted = linearNodes.Select(n => n.Inputs[0]).ToHashSet();
        var firstReader = wanted.ToDictionary(x => x, x => graph.Users(x).First());
        var stats = new Dictionary<Value, InputStatistics>();
        var interpreter = new ReferenceInterpreter(graph, weights);
        foreach (var sequence in set.Sequences)
        {
            var positions = Enumerable.Range(0, sequence.Length).ToArray();
            var inputs = new Dictionary<string, HostTensor>
            {
                [LlamaGraphBuilder.TokensInput] = HostTensor.I32([sequence.Length], sequence),
                [LlamaGraphBuilder.PositionsInput] = HostTensor.I32([sequence.Length], positions),
            };
            interpreter.Run(inputs, new KvCache(), (node, args) =>
            {
                var x = node.Inputs.Count > 0 ? node.Inputs[0] : null;
                if (x is null || !wanted.Contains(x)) return;
                var t = args[0];
                int k = t.Shape[^1];
                if (!stats.TryGetValue(x, out var s)) stats[x] = s = new InputStatistics(k, withHessian, sampleRows);
                // A value read by several layers arrives once per reader; count it once per run.
                if (firstReader[x] == node) s.Add(t.Span, ShapeMath.Rows(t.Shape));
            });
        }
        return stats;
    }
}
