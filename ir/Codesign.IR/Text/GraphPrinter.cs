using System.Text;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Types;

namespace Codesign.IR.Text;

/// <summary>Prints a graph in the text form that <see cref="GraphParser"/> reads back exactly.</summary>
public static class GraphPrinter
{
    public static string Print(Graph graph)
    {
        var b = new StringBuilder();
        b.Append("graph @").Append(graph.Name);
        if (graph.Attributes.Count > 0)
            b.Append(" attributes ").Append(FormatAttributes(graph.Attributes));
        b.Append(" {\n");
        foreach (var v in graph.Inputs)
            b.Append("  %").Append(v.Name).Append(" = input : ").Append(Format(v.Type)).Append('\n');
        foreach (var v in graph.Weights)
            b.Append("  %").Append(v.Name).Append(" = weight ").Append(AttributeValues.Quote(v.WeightKey!)).Append(" : ").Append(Format(v.Type)).Append('\n');
        foreach (var node in graph.Nodes)
        {
            b.Append("  ").Append(string.Join(", ", node.Outputs.Select(v => "%" + v.Name)));
            b.Append(" = ").Append(node.Op.Mnemonic).Append('(');
            b.Append(string.Join(", ", node.Inputs.Select(v => "%" + v.Name))).Append(')');
            var attrs = node.Op.Attributes.ToList();
            if (attrs.Count > 0) b.Append(' ').Append(FormatAttributes(attrs));
            b.Append(" : ").Append(string.Join(", ", node.Outputs.Select(v => Format(v.Type)))).Append('\n');
        }
        b.Append("  return ").Append(string.Join(", ", graph.Outputs.Select(v => "%" + v.Name))).Append('\n');
        b.Append("}\n");
        return b.ToString();
    }

    public static string Format(TensorType type) => $"tensor<[{string.Join(", ", type.Shape)}], {type.DType.Name}>";

    private static string FormatAttributes(IEnumerable<KeyValuePair<string, object>> attrs) =>
        "{" + string.Join(", ", attrs.Select(kv => $"{kv.Key} = {AttributeValues.Format(kv.Value)}")) + "}";
}
