using Codesign.Backends.Gpu.Kernels;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// The graph's weights on the device, uploaded once in the form each kernel reads and kept for the program's life.
/// Quantized codes keep the IR's bit packing (rows padded to whole words); only f16/bf16 scales are widened to f32.
/// </summary>
public sealed class GpuWeights(Accelerator accelerator, IWeightStore store) : IDisposable
{
    private readonly Dictionary<(string Key, string Form), GpuWeight> _uploaded = [];
    private readonly List<MemoryBuffer> _constants = [];

    /// <summary>Bytes on the device.</summary>
    public long Bytes => _uploaded.Values.Sum(w => w.Bytes);

    internal DenseF32GpuWeight DenseF32(Value weight) => Get(weight, "f32", t =>
    {
        RequireFloat(weight, t);
        var values = FloatConversion.ToFloat32(t);
        return new DenseF32GpuWeight(accelerator.Allocate1D(values.ToArray()), [.. t.Shape.Select(d => checked((int)d))]);
    });

    /// <summary>A matrix weight in its own precision: f16 stays f16, f32 and bf16 are f32.</summary>
    internal GpuWeight DenseMatrix(Value weight) => weight.Type.DType == DType.F16
        ? Get(weight, "f16", t =>
        {
            // ILGPU's Half is the IEEE binary16 the store holds: upload the bits as they are.
            var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ILGPU.Half>(t.Data.Span).ToArray();
            return new DenseF16GpuWeight(accelerator.Allocate1D(halves), checked((int)t.Shape[0]), checked((int)t.Shape[1]));
        })
        : DenseF32(weight);

    /// <summary>Group-wise codes; a pruned quantized weight computes as dense, its pruned codes at the zero point.</summary>
    internal QuantizedGpuWeight Quantized(Value weight) => Get(weight, "quantized", t =>
    {
        var (m, stored) = PackedWeightCodec.DecodeCodes(t)
            ?? throw new CodesignException($"gpu backend: weight %{weight.Name} is {t.DType}; its kernel reads group-wise quantized weights");
        var layout = m.Layout;
        int rowWords = QuantizedRows.WordsPerRow(m.Cols, m.Scheme.Bits);
        var words = new uint[(long)m.Rows * rowWords];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan());
        var packed = stored.Span;
        for (int r = 0; r < m.Rows; r++)
            packed.Slice(r * layout.RowCodeBytes, layout.RowCodeBytes).CopyTo(bytes.Slice(r * rowWords * sizeof(uint)));
        var rows = new QuantizedRows
        {
            N = m.Rows, K = m.Cols, Bits = m.Scheme.Bits, RowWords = rowWords, GroupLength = m.GroupLength, Groups = m.Groups,
            ImplicitZero = m.Scheme.Symmetric ? m.Scheme.ImplicitZero : 0,
        };
        var codes = accelerator.Allocate1D(words);
        var scales = accelerator.Allocate1D(m.Scales);
        var zeros = m.Zeros is { } z ? accelerator.Allocate1D(z) : null;
        rows.Codes = codes.View;
        rows.Scales = scales.View;
        rows.Zeros = zeros is null ? default : zeros.View;
        return new QuantizedGpuWeight(codes, scales, zeros, rows);
    });

    internal GpuWeight Sparse(Value weight) => Get<GpuWeight>(weight, "sparse", t =>
    {
        if (t.DType.Kind != DTypeKind.Sparse)
            throw new CodesignException($"gpu backend: weight %{weight.Name} is {t.DType}; its kernel reads pruned (sparse) weights");
        var m = (SparseMatrix)PackedWeightCodec.Decode(t);
        var dense = m.ToDense();
        return m.Format.Kind == SparseKind.NOfM ? UploadNOfM(m, dense) : UploadEll(m, dense);
    });

    private NOfMGpuWeight UploadNOfM(SparseMatrix m, float[] dense)
    {
        var f = m.Format;
        // The IR guarantees exactly N kept weights in every window of M (K a multiple of M), so rows have equal length.
        int perRow = m.Cols / f.M * f.N;
        var values = new float[(long)m.Rows * perRow];
        var offsets = new byte[values.Length];
        for (int r = 0; r < m.Rows; r++)
        {
            int at = r * perRow;
            for (int c = 0; c < m.Cols; c++)
            {
                long i = (long)r * m.Cols + c;
                if (!m.Kept[i]) continue;
                offsets[at] = (byte)(c % f.M);
                values[at++] = dense[i];
            }
        }
        var v = accelerator.Allocate1D(values);
        var o = accelerator.Allocate1D(offsets);
        return new NOfMGpuWeight(v, o, new NOfMRows { Values = v.View, Offsets = o.View, Rows = m.Rows, K = m.Cols, N = f.N, M = f.M, PerRow = perRow });
    }

    private EllGpuWeight UploadEll(SparseMatrix m, float[] dense)
    {
        int perRow = 1;
        for (int r = 0; r < m.Rows; r++)
            perRow = Math.Max(perRow, m.Kept.AsSpan(r * m.Cols, m.Cols).Count(true));
        var values = new float[(long)m.Rows * perRow];
        var columns = new int[values.Length];
        for (int r = 0; r < m.Rows; r++)
        {
            int at = r * perRow;
            for (int c = 0; c < m.Cols; c++)
            {
                long i = (long)r * m.Cols + c;
                if (!m.Kept[i]) continue;
                columns[at] = c;
                values[at++] = dense[i];
            }
            for (; at < (r + 1) * perRow; at++) columns[at] = m.Cols - 1;
        }
        var v = accelerator.Allocate1D(values);
        var c2 = accelerator.Allocate1D(columns);
        return new EllGpuWeight(v, c2, new EllRows { Values = v.View, Columns = c2.View, Rows = m.Rows, K = m.Cols, PerRow = perRow });
    }

    /// <summary>A table the kernels read that is not a graph weight (e.g. rope's frequencies), uploaded once.</summary>
    internal ILGPU.ArrayView<float> Constant(float[] values)
    {
        var buffer = accelerator.Allocate1D(values);
        _constants.Add(buffer);
        return buffer.View;
    }

    private static void RequireFloat(Value weight, WeightTensor t)
    {
        if (t.DType.Kind is not (DTypeKind.F32 or DTypeKind.F16 or DTypeKind.BF16))
            throw new CodesignException($"gpu backend: weight %{weight.Name} is {t.DType}; its kernel reads dense f32/f16/bf16 weights");
    }

    private T Get<T>(Value weight, string form, Func<WeightTensor, T> upload) where T : GpuWeight
    {
        string key = weight.WeightKey ?? throw new CodesignException($"gpu backend: %{weight.Name} must be a weight");
        if (_uploaded.TryGetValue((key, form), out var known)) return (T)known;
        T uploaded;
        try
        {
            uploaded = upload(GraphBinding.Weight(weight, store));
        }
        catch (CodesignException e) when (!e.Message.StartsWith("gpu backend", StringComparison.Ordinal))
        {
            throw new CodesignException($"gpu backend: weight %{weight.Name}: {e.Message}", e);
        }
        _uploaded[(key, form)] = uploaded;
        return uploaded;
    }

    public void Dispose()
    {
        foreach (var w in _uploaded.Values) w.Dispose();
        foreach (var c in _constants) c.Dispose();
        _uploaded.Clear();
        _constants.Clear();
    }
}
