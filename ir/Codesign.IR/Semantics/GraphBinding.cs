using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.IR.Semantics;

/// <summary>
/// How any executor (the interpreter, a backend's program) ties concrete data to a graph: inputs checked
/// against their declared types with symbolic dimensions bound from their shapes, and weights checked
/// against what the store holds. One set of rules and messages for every device.
/// </summary>
public static class GraphBinding
{
    /// <param name="givenInts">Whether the given data is i32 (ids, positions) rather than floats.</param>
    /// <param name="given">The given tensor as messages show it.</param>
    public static void BindInput(Graph graph, Value input, bool givenInts, IReadOnlyList<int> shape, Dictionary<string, long> symbols, string given)
    {
        var type = input.Type;
        bool dtypeOk = type.DType == DType.I32 ? givenInts : type.DType.IsFloat && !givenInts;
        if (!dtypeOk || shape.Count != type.Rank)
            throw new CodesignException($"graph @{graph.Name}: input %{input.Name} must be {type}, got {given}");
        for (int a = 0; a < type.Rank; a++)
        {
            var d = type.Shape[a];
            if (!d.IsSymbolic)
            {
                if (d.Size != shape[a])
                    throw new CodesignException($"graph @{graph.Name}: input %{input.Name} axis {a} must be {d.Size}, got {shape[a]}");
            }
            else if (symbols.TryGetValue(d.Symbol!, out long bound) && bound != shape[a])
            {
                throw new CodesignException($"graph @{graph.Name}: input %{input.Name} axis {a} is '{d.Symbol}' = {bound} elsewhere, got {shape[a]}");
            }
            else
            {
                symbols[d.Symbol!] = shape[a];
            }
        }
    }

    /// <summary>The store's tensor for a weight value, after checking it has the declared shape and dtype.</summary>
    public static WeightTensor Weight(Value w, IWeightStore store)
    {
        var t = store.Get(w.WeightKey!);
        if (!t.Shape.SequenceEqual(w.Type.Shape.Select(d => d.Size)) || t.DType != w.Type.DType)
            throw new CodesignException($"weight %{w.Name}: the store holds {t.DType} [{string.Join(", ", t.Shape)}] under '{t.Key}', the graph declares {w.Type}");
        return t;
    }
}
