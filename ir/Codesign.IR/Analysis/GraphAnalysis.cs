using Codesign.IR.Graphs;
using QuikGraph;
using QuikGraph.Algorithms;

namespace Codesign.IR.Analysis;

/// <summary>
/// Graph algorithms over a <see cref="Graph"/> through QuikGraph: the IR keeps its own plain storage,
/// this adapter builds the node-level dependency graph on demand.
/// </summary>
public static class GraphAnalysis
{
    /// <summary>Node dependency graph: an edge producer → consumer for every operand.</summary>
    public static AdjacencyGraph<Node, Edge<Node>> DependencyGraph(Graph graph)
    {
        var g = new AdjacencyGraph<Node, Edge<Node>>(allowParallelEdges: false);
        g.AddVertexRange(graph.Nodes);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (input.Producer is { } producer && g.ContainsVertex(producer) && !g.ContainsEdge(producer, node))
                    g.AddEdge(new Edge<Node>(producer, node));
            }
        }
        return g;
    }

    public static bool IsAcyclic(Graph graph) => DependencyGraph(graph).IsDirectedAcyclicGraph();

    /// <summary>Nodes in an order where every producer precedes its consumers.</summary>
    public static IReadOnlyList<Node> TopologicalOrder(Graph graph) => DependencyGraph(graph).TopologicalSort().ToList();

    /// <summary>For each node, the values whose last use it is (they can be freed after it runs). Outputs are never freed.</summary>
    public static IReadOnlyDictionary<Node, List<Values.Value>> LastUses(Graph graph, IReadOnlyList<Node> order)
    {
        var last = new Dictionary<Values.Value, Node>();
        foreach (var node in order)
            foreach (var input in node.Inputs)
                last[input] = node;
        var outputs = graph.Outputs.ToHashSet();
        var result = order.ToDictionary(n => n, _ => new List<Values.Value>());
        foreach (var (value, node) in last)
        {
            if (!outputs.Contains(value) && value.Kind == Values.ValueKind.Result)
                result[node].Add(value);
        }
        return result;
    }
}
