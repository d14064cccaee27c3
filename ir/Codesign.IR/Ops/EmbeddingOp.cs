using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary><c>nn.embedding(ids: [S...] int, table: [V, D] float) -> [S..., D] f32</c>: rows of the table.</summary>
public sealed class EmbeddingOp : Op
{
    public override string Mnemonic => "nn.embedding";

    public static EmbeddingOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown();
        return new EmbeddingOp();
    }

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 2);
        var (ids, table) = (inputs[0], inputs[1]);
        Require(ids.DType.IsInteger, $"ids must be integers, found {ids.DType}");
        Require(table.Rank == 2, $"table must be [vocab, dim], found rank {table.Rank}");
        RequireFloat(table, "table");
        return [TensorType.Of(DType.F32, [.. ids.Shape, table[1]])];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var ids = inputs[0].RequireInts("ids");
        var table = inputs[1];
        int d = table.Shape[1];
        var y = ShapeKernels.Gather(table.Span, table.Shape[0], d, ids, Mnemonic);
        return [HostTensor.F32([.. inputs[0].Shape, d], y)];
    }
}
