using Codesign.Compiler.Recipes;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Passes;

/// <summary>
/// Writes each planned layer's weight in its packed form and rewrites the node: quantized → quant.qmatmul,
/// pruned (quantized or not) → sparse.spmatmul, kept → nn.matmul on an f32/f16/bf16 weight. A weight read by
/// anything else as well (a tied embedding) gets a new weight value instead of being retyped.
/// </summary>
public sealed class EncodeWeightsPass : IPass
{
    public string Name => "encode-weights";

    public bool Run(CompressionContext context)
    {
        bool changed = false;
        foreach (var (node, rule) in context.Plans)
        {
            var weight = node.Inputs[1];
            if (rule.Keep is { } keep)
            {
                var dtype = DType.Parse(keep);
                if (dtype == weight.Type.DType) continue;
                var values = context.ReadFloats(weight);
                var target = Target(context, node, weight, dtype);
                long[] shape = [weight.Type[0].Size, weight.Type[1].Size];
                context.Weights.Set(WeightTensor.FromFloats(target.WeightKey!, dtype, shape, values));
                context.Graph.ReplaceNode(node, new MatMulOp(), [node.Inputs[0], target]);
                changed = true;
                continue;
            }
            IPackedMatrix packed;
            Op op;
            var mask = context.Masks.GetValueOrDefault(node);
            if (context.Quantized.TryGetValue(node, out var q))
            {
                var format = rule.Sparsity is { } sp ? RecipeLoader.PatternOf(sp) : null;
                packed = format is null ? q : SparseMatrix.FromQuantized(format, mask!, q);
                op = format is null ? new QMatMulOp(rule.Quant!.Accumulate, rule.Quant.ActBits) : new SpMatMulOp(rule.Quant!.ActBits);
            }
            else
            {
                var sp = rule.Sparsity!;
                packed = SparseMatrix.FromDense(RecipeLoader.PatternOf(sp), DType.Parse(sp.Element), (int)weight.Type[0].Size, (int)weight.Type[1].Size, mask!, context.ReadFloats(weight));
                op = new SpMatMulOp();
            }
            var packedType = PackedWeightCodec.DTypeOf(packed);
            var packedWeight = Target(context, node, weight, packedType);
            context.Weights.Set(PackedWeightCodec.Encode(packedWeight.WeightKey!, packedType, packed));
            context.Graph.ReplaceNode(node, op, [node.Inputs[0], packedWeight]);
            changed = true;
        }
        context.Graph.RemoveUnusedWeights();
        return changed;
    }

    private static Value Target(CompressionContext context, Node node, Value weight, DType dtype)
    {
        if (context.Graph.Users(weight).All(u => u == node))
        {
            context.Graph.RetypeWeight(weight, dtype);
            return weight;
        }
        string name = context.Graph.FreshName(weight.Name + ".packed");
        return context.Graph.AddWeight(name, name, weight.Type.WithDType(dtype));
    }
}
