using Codesign.IR.Diagnostics;
using Codesign.IR.Ops;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.IR.Graphs;

/// <summary>
/// A dataflow graph in SSA form: inputs, weights (named entries of a weight store), nodes in program
/// order, outputs, and graph-level attributes (model metadata). Value names are unique.
/// </summary>
public sealed class Graph
{
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly List<Value> _inputs = [];
    private readonly List<Value> _weights = [];
    private readonly List<Node> _nodes = [];
    private readonly List<Value> _outputs = [];
    private readonly List<KeyValuePair<string, object>> _attributes = [];

    public Graph(string name)
    {
        if (string.IsNullOrEmpty(name) || !(char.IsAsciiLetter(name[0]) || name[0] == '_') || !IsValidName(name) || name.Contains('-'))
            throw new ArgumentException($"graph name '{name}' must start with a letter or '_' and hold letters, digits, '_' and '.'", nameof(name));
        Name = name;
    }

    public string Name { get; }
    public IReadOnlyList<Value> Inputs => _inputs;
    public IReadOnlyList<Value> Weights => _weights;
    public IReadOnlyList<Node> Nodes => _nodes;
    public IReadOnlyList<Value> Outputs => _outputs;
    public IReadOnlyList<KeyValuePair<string, object>> Attributes => _attributes;

    public Value? FindValue(string name) => _values.GetValueOrDefault(name);

    public Value GetValue(string name) =>
        FindValue(name) ?? throw new VerificationException($"graph @{Name} has no value %{name}");

    public Value AddInput(string name, TensorType type)
    {
        var v = new Value(name, type, ValueKind.Input, null, null);
        Register(v);
        _inputs.Add(v);
        return v;
    }

    public Value AddWeight(string name, string key, TensorType type)
    {
        var v = new Value(name, type, ValueKind.Weight, key, null);
        Register(v);
        _weights.Add(v);
        return v;
    }

    /// <summary>Appends a node whose results have the given names and types (types are checked by the verifier).</summary>
    public Node AddNode(Op op, IReadOnlyList<Value> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<TensorType> outputTypes)
    {
        if (outputNames.Count != outputTypes.Count)
            throw new ArgumentException("one type per result name");
        foreach (var input in inputs)
        {
            if (!ReferenceEquals(FindValue(input.Name), input))
                throw new VerificationException($"{op.Mnemonic}: operand %{input.Name} does not belong to graph @{Name}");
        }
        var node = new Node(op, inputs);
        var outputs = new Value[outputNames.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = new Value(outputNames[i], outputTypes[i], ValueKind.Result, null, node);
            Register(outputs[i]);
        }
        node.Outputs = outputs;
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// Rewrites a node in place: a new op and operands producing results of the same types, so every
    /// user of the results stays valid (e.g. nn.matmul → quant.qmatmul).
    /// </summary>
    public void ReplaceNode(Node node, Op op, IReadOnlyList<Value> inputs)
    {
        if (!_nodes.Contains(node)) throw new VerificationException($"{node.Op.Mnemonic}: the node does not belong to graph @{Name}");
        foreach (var input in inputs)
        {
            if (!ReferenceEquals(FindValue(input.Name), input))
                throw new VerificationException($"{op.Mnemonic}: operand %{input.Name} does not belong to graph @{Name}");
        }
        var types = op.InferTypes(inputs.Select(v => v.Type).ToArray());
        if (!types.SequenceEqual(node.Outputs.Select(v => v.Type)))
            throw new VerificationException($"{op.Mnemonic}: replacing {node.Op.Mnemonic} would change the result types to {string.Join(", ", types)}");
        node.Op = op;
        node.Inputs = inputs.ToArray();
    }

    /// <summary>Changes the dtype of a weight (its store entry changes with it); the verifier checks its users still accept it.</summary>
    public void RetypeWeight(Value weight, DType dtype)
    {
        if (weight.Kind != ValueKind.Weight || !ReferenceEquals(FindValue(weight.Name), weight))
            throw new VerificationException($"%{weight.Name} is not a weight of graph @{Name}");
        weight.Type = weight.Type.WithDType(dtype);
    }

    /// <summary>Nodes that read <paramref name="value"/>, in program order.</summary>
    public IEnumerable<Node> Users(Value value) => _nodes.Where(n => n.Inputs.Contains(value));

    /// <summary>Drops weights no node reads (e.g. after a rewrite gave a node a new weight).</summary>
    public int RemoveUnusedWeights()
    {
        var used = new HashSet<Value>(_nodes.SelectMany(n => n.Inputs).Concat(_outputs));
        var dead = _weights.Where(w => !used.Contains(w)).ToList();
        foreach (var w in dead)
        {
            _weights.Remove(w);
            _values.Remove(w.Name);
        }
        return dead.Count;
    }

    /// <summary>A weight name not yet taken, derived from <paramref name="stem"/>.</summary>
    public string FreshName(string stem)
    {
        if (!_values.ContainsKey(stem)) return stem;
        for (int i = 1; ; i++)
            if (!_values.ContainsKey($"{stem}.{i}")) return $"{stem}.{i}";
    }

    public void SetOutputs(IEnumerable<Value> outputs)
    {
        _outputs.Clear();
        foreach (var v in outputs)
        {
            if (!ReferenceEquals(FindValue(v.Name), v))
                throw new VerificationException($"output %{v.Name} does not belong to graph @{Name}");
            _outputs.Add(v);
        }
    }

    public void SetAttribute(string name, object value)
    {
        if (!AttributeValues.IsSupported(value))
            throw new ArgumentException($"attribute '{name}' has unsupported type {value.GetType().Name}");
        int i = _attributes.FindIndex(kv => kv.Key == name);
        if (i >= 0) _attributes[i] = new(name, value);
        else _attributes.Add(new(name, value));
    }

    public object? GetAttribute(string name) => _attributes.FirstOrDefault(kv => kv.Key == name).Value;

    /// <summary>Values defined but never used by a node or an output, in definition order.</summary>
    public IEnumerable<Value> AllValues => _inputs.Concat(_weights).Concat(_nodes.SelectMany(n => n.Outputs));

    private void Register(Value v)
    {
        if (!IsValidName(v.Name))
            throw new VerificationException($"value name '{v.Name}' is not printable: use letters, digits, '_', '.' and '-'");
        if (!_values.TryAdd(v.Name, v))
            throw new VerificationException($"value %{v.Name} is defined twice (SSA: one definition per value)");
    }

    /// <summary>Names the text form can print: letters, digits, '_', '.', '-'.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
}
