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

    /// <summary>
    /// The group-wise codes of a quantized weight, or of a sparse weight over quantized codes computed as dense (its
    /// pruned codes are the zero point, so integer kernels sum them as exactly 0): the matrix, and bytes that begin with
    /// its codes packed as <see cref="QuantizedLayout"/> stores them. Null when <paramref name="tensor"/> has no codes.
    /// </summary>
    public static (QuantizedMatrix Matrix, ReadOnlyMemory<byte> PackedCodes)? DecodeCodes(WeightTensor tensor) =>
        tensor.DType.CodeScheme is null ? null : Decode(tensor) switch
        {
            QuantizedMatrix q => (q, tensor.Data),
            SparseMatrix { Quantized: { } q } => (q, q.Pack()),
            var other => throw new ArgumentException($"{tensor.DType} decoded to {other.GetType().Name}"),
        };

    public static WeightTensor Encode(string key, DType dtype, IPackedMatrix matrix) =>
        new(key, dtype, [matrix.Rows, matrix.Cols], matrix.Pack());

    public static DType DTypeOf(IPackedMatrix matrix) => matrix switch
    {
        QuantizedMatrix q => DType.Quantized(q.Scheme),
        SparseMatrix s => s.DType,
        _ => throw new ArgumentException($"unknown packed matrix {matrix.GetType().Name}"),
    };
}
