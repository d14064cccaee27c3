using Codesign.IR.Analysis;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.IR.Semantics;

/// <summary>
/// The golden model: runs any verified graph op by op with each op's reference semantics, in f32.
/// Weights are read through the store once (f32 weights as views of the mapped file, others converted)
/// and intermediate values are dropped after their last use.
/// </summary>
public sealed class ReferenceInterpreter
{
    private readonly IReadOnlyList<Node> _order;
    private readonly IReadOnlyDictionary<Node, List<Value>> _lastUses;
    private readonly Dictionary<Value, HostTensor> _weights = [];

    public ReferenceInterpreter(Graph graph, IWeightStore weights)
    {
        Verifier.Verify(graph);
        Graph = graph;
        _order = GraphAnalysis.TopologicalOrder(graph);
        _lastUses = GraphAnalysis.LastUses(graph, _order);
        foreach (var w in graph.Weights) _weights[w] = LoadWeight(w, weights);
    }

    public Graph Graph { get; }

    /// <summary>Runs the graph once. Inputs are matched by name; symbolic dims are bound from their shapes.</summary>
    /// <param name="beforeNode">Called with each node and its operands before it runs (calibration collects activations here).</param>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvCache kvCache, Action<Node, HostTensor[]>? beforeNode = null) =>
        Run(inputs, KvBatch.Single(kvCache), beforeNode);

    /// <summary>Runs several sequences' tokens stacked in one call, each with its own cache (<see cref="KvBatch"/>).</summary>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvBatch batch, Action<Node, HostTensor[]>? beforeNode = null)
    {
        var env = new Dictionary<Value, HostTensor>(_weights);
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var input in Graph.Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out var t))
                throw new CodesignException($"graph @{Graph.Name}: input %{input.Name} was not given");
            GraphBinding.BindInput(Graph, input, t.Ints is not null, t.Shape, symbols, t.ToString());
            env[input] = t;
        }
        var context = new EvalContext(symbols, batch);
        foreach (var node in _order)
        {
            var args = new HostTensor[node.Inputs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = env[node.Inputs[i]];
            beforeNode?.Invoke(node, args);
            var results = node.Op.Evaluate(args, context);
            for (int i = 0; i < results.Length; i++) env[node.Outputs[i]] = results[i];
            foreach (var dead in _lastUses[node]) env.Remove(dead);
        }
        return Graph.Outputs.ToDictionary(v => v.Name, v => env[v]);
    }

    private static HostTensor LoadWeight(Value w, IWeightStore store)
    {
        var t = GraphBinding.Weight(w, store);
        if (t.DType.IsPacked)
        {
            try
            {
                return HostTensor.PackedWeight(t.DType, PackedWeightCodec.Decode(t));
            }
            catch (Exception e) when (e is CodesignException or ArgumentException)
            {
                throw new CodesignException($"weight %{w.Name} ('{t.Key}'): {e.Message}");
            }
        }
        return HostTensor.F32(t.Shape.Select(d => checked((int)d)).ToArray(), FloatConversion.ToFloat32(t));
    }
}
