using Codesign.Compiler.Passes;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Values;

namespace Codesign.Compiler.Quantization;

/// <summary>
/// Where a per-channel factor on an activation x can be folded so the graph computes the same function:
/// x' = x · f is produced by scaling the rms_norm weight that makes x, or the rows of the linear layer
/// whose output is one factor of the element-wise product that makes x (up_proj before down_proj).
/// Attention outputs (o_proj's input) have no such place under grouped-query attention, so they are left alone.
/// </summary>
public static class ChannelScaleFolding
{
    /// <summary>An action that multiplies x by f in place; null when x has no foldable producer or other readers.</summary>
    public static Action<double[]>? Find(CompressionContext context, Value x, IReadOnlyCollection<Node> readers)
    {
        var graph = context.Graph;
        if (x.Producer is not { } producer || graph.Users(x).Any(u => !readers.Contains(u)) || graph.Outputs.Contains(x))
            return null;
        if (producer.Op is RmsNormOp && producer.Inputs[1] is { Kind: ValueKind.Weight } norm && graph.Users(norm).Count() == 1)
            return f => ScaleElements(context, norm, f, rowLength: 1);
        if (producer.Op is MulOp)
        {
            foreach (var operand in producer.Inputs)
            {
                if (operand.Producer is { Op: MatMulOp } linear && linear.Inputs[1] is { Kind: ValueKind.Weight } w
                    && w.Type.DType.IsFloat && graph.Users(operand).Count() == 1 && graph.Users(w).Count() == 1)
                    return f => ScaleElements(context, w, f, rowLength: (int)w.Type[1].Size);
            }
        }
        return null;
    }

    /// <summary>Multiplies row (or element) c of the weight by f[c].</summary>
    private static void ScaleElements(CompressionContext context, Value weight, double[] f, int rowLength)
    {
        var values = context.ReadFloats(weight);
        for (int c = 0; c < f.Length; c++)
            for (int j = 0; j < rowLength; j++) values[c * rowLength + j] = (float)(values[c * rowLength + j] * f[c]);
        context.WriteFloats(weight, values);
    }

    /// <summary>W ← W · diag(s): column c of a linear weight [N, K] times s[c].</summary>
    public static float[] ScaleColumns(float[] w, int rows, int cols, double[] s)
    {
        var scaled = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) scaled[r * cols + c] = (float)(w[r * cols + c] * s[c]);
        return scaled;
    }
}
