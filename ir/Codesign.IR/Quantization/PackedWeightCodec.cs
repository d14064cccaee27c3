using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.IR.Quantization;

/// <summary>Decodes and encodes stored tensors of the packed dtypes (quantized, sparse) through their one codec each.</summary>
public static class PackedWeightCodec
{
    public static IPackedMatrix Decode(WeightTensor tensor)
    {
        if (tensor.Shape.Length != 2 || tensor.Shape.Any(d => d is < 1 or > int.MaxValue))
            throw new ArgumentException($"packed weights are matrices [N, K], found [{string.Join(", ", tensor.Shape)}]");
        int rows = (int)tensor.Shape[0], cols = (int)tensor.Shape[1];
        var dtype = tensor.DType;
        return dtype.Kind switch
        {
            DTypeKind.Quantized => QuantizedMatrix.Unpack(dtype.Scheme!, rows, cols, tensor.Data.Span),
            DTypeKind.Sparse => SparseMatrix.Unpack(dtype.Sparsity!, dtype.Element!, rows, cols, tensor.Data.Span),
            _ => throw new ArgumentException($"{dtype} is not a packed dtype"),
        };
    }

    public static WeightTensor Encode(string key, DType dtype, IPackedMatrix matrix) =>
        new(key, dtype, [matrix.Rows, matrix.Cols], matrix.Pack());

    public static DType DTypeOf(IPackedMatrix matrix) => matrix switch
    {
        QuantizedMatrix q => DType.Quantized(q.Scheme),
        SparseMatrix s => s.DType,
        _ => throw new ArgumentException($"unknown packed matrix {matrix.GetType().Name}"),
    };
}
