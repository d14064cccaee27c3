using Codesign.Compiler.Calibration;
using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Passes;

/// <summary>
/// What the compression passes share: the graph they rewrite, the weight layer they write into, the
/// recipe, calibration data, and the per-layer facts earlier passes hand to later ones.
/// </summary>
/// <param name="calibration">Loads the calibration set; called only when a planned layer needs it.</param>
public sealed class CompressionContext(Graph graph, LayeredWeightStore weights, Recipe recipe, Func<CalibrationSet>? calibration = null)
{
    public Graph Graph { get; } = graph;
    public LayeredWeightStore Weights { get; } = weights;
    public Recipe Recipe { get; } = recipe;
    public Lazy<CalibrationSet>? Calibration { get; } = calibration is null ? null : new(calibration);
    public Action<string>? Log { get; init; }

    /// <summary>The recipe rule each linear layer falls under.</summary>
    public Dictionary<Node, LayerRule> Plans { get; } = [];
    /// <summary>Calibration statistics per activation value entering a planned layer.</summary>
    public Dictionary<Value, InputStatistics> Statistics { get; } = [];
    /// <summary>Kept-weight masks of pruned layers, row-major over [N, K].</summary>
    public Dictionary<Node, bool[]> Masks { get; } = [];
    public Dictionary<Node, QuantizedMatrix> Quantized { get; } = [];

    /// <summary>The linear layers: nn.matmul nodes whose second operand is a float weight, in program order.</summary>
    public IEnumerable<Node> LinearLayers() =>
        Graph.Nodes.Where(n => n.Op is MatMulOp && n.Inputs[1].Kind == ValueKind.Weight && n.Inputs[1].Type.DType.IsFloat);

    /// <summary>
    /// The layer a linear node is to a recipe: its weight's key without <c>.weight</c>, except that a logits matrix that is
    /// the embedding table (tied embeddings) is <c>lm_head</c>, as it is on an untied model, so a recipe can name it (and
    /// <c>*</c> does not take it for the embedding's).
    /// </summary>
    public string LayerName(Node linear) =>
        Graph.Nodes.Any(n => n.Op is EmbeddingOp && n.Inputs[1] == linear.Inputs[1]) ? "lm_head" : LayerPattern.LayerName(linear.Inputs[1].WeightKey!);

    public float[] ReadFloats(Value weight) => FloatConversion.ToFloat32(Weights.Get(weight.WeightKey!)).ToArray();

    /// <summary>Replaces a float weight's values (stored as f32 from now on).</summary>
    public void WriteFloats(Value weight, float[] values)
    {
        Weights.Set(WeightTensor.FromFloats(weight.WeightKey!, IR.Types.DType.F32, weight.Type.Shape.Select(d => d.Size).ToArray(), values));
        Graph.RetypeWeight(weight, IR.Types.DType.F32);
    }
}
