using Codesign.IR.Ops;
using Codesign.IR.Values;

namespace Codesign.IR.Graphs;

/// <summary>One application of an op: operands in, results out.</summary>
public sealed class Node
{
    internal Node(Op op, IReadOnlyList<Value> inputs)
    {
        Op = op;
        Inputs = inputs.ToArray();
    }

    public Op Op { get; internal set; }
    public IReadOnlyList<Value> Inputs { get; internal set; }
    public IReadOnlyList<Value> Outputs { get; internal set; } = [];

    public override string ToString() => $"{string.Join(", ", Outputs)} = {Op.Mnemonic}({string.Join(", ", Inputs)})";
}
