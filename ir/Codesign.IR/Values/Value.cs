using Codesign.IR.Graphs;
using Codesign.IR.Types;

namespace Codesign.IR.Values;

/// <summary>An SSA value: defined once (graph input, weight, or node result), used by any number of nodes.</summary>
public sealed class Value
{
    internal Value(string name, TensorType type, ValueKind kind, string? weightKey, Node? producer)
    {
        Name = name;
        Type = type;
        Kind = kind;
        WeightKey = weightKey;
        Producer = producer;
    }

    /// <summary>Name in the text form, without the leading <c>%</c>.</summary>
    public string Name { get; internal set; }
    public TensorType Type { get; internal set; }
    public ValueKind Kind { get; }
    /// <summary>For weights: the key of the tensor in the weight store.</summary>
    public string? WeightKey { get; }
    /// <summary>For results: the node that defines it.</summary>
    public Node? Producer { get; internal set; }

    public override string ToString() => $"%{Name}";
}
