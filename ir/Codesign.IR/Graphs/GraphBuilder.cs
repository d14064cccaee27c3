using Codesign.IR.Ops;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.IR.Graphs;

/// <summary>Builds a graph op by op, inferring result types and naming unnamed results %0, %1, ….</summary>
public sealed class GraphBuilder(Graph graph)
{
    private int _next;

    public GraphBuilder(string name) : this(new Graph(name)) { }

    public Graph Graph { get; } = graph;

    public Value Input(string name, TensorType type) => Graph.AddInput(name, type);
    public Value Weight(string name, TensorType type, string? key = null) => Graph.AddWeight(name, key ?? name, type);

    public Value Apply(Op op, string? name, params Value[] inputs) => ApplyMulti(op, name is null ? null : [name], inputs)[0];

    public IReadOnlyList<Value> ApplyMulti(Op op, IReadOnlyList<string>? names, params Value[] inputs)
    {
        var types = op.InferTypes(inputs.Select(v => v.Type).ToArray());
        var resultNames = names ?? types.Select(_ => FreshName()).ToArray();
        return Graph.AddNode(op, inputs, resultNames, types).Outputs;
    }

    public Value Embedding(Value ids, Value table, string? name = null) => Apply(new EmbeddingOp(), name, ids, table);
    public Value MatMul(Value x, Value w, string? name = null) => Apply(new MatMulOp(), name, x, w);
    public Value RmsNorm(Value x, Value w, double eps, string? name = null) => Apply(new RmsNormOp(eps), name, x, w);
    public Value Rope(Value x, Value positions, double theta, string? name = null) => Apply(new RopeOp(theta), name, x, positions);
    public Value Attention(Value q, Value k, Value v, long layer, double scale, string? name = null) => Apply(new AttentionOp(layer, scale), name, q, k, v);
    public Value Softmax(Value x, string? name = null) => Apply(new SoftmaxOp(), name, x);
    public Value Silu(Value x, string? name = null) => Apply(new SiluOp(), name, x);
    public Value Add(Value a, Value b, string? name = null) => Apply(new AddOp(), name, a, b);
    public Value Mul(Value a, Value b, string? name = null) => Apply(new MulOp(), name, a, b);
    public Value Reshape(Value x, Dim[] shape, string? name = null) => Apply(new ReshapeOp(shape), name, x);
    public Value Transpose(Value x, int[] perm, string? name = null) => Apply(new TransposeOp(perm), name, x);

    public Graph Return(params Value[] outputs)
    {
        Graph.SetOutputs(outputs);
        return Graph;
    }

    private string FreshName()
    {
        while (Graph.FindValue(_next.ToString(System.Globalization.CultureInfo.InvariantCulture)) is not null) _next++;
        return (_next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
