using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// The graph's weights in the forms its kernels read, each built on first request and kept pinned: f32 tensors are
/// used in place (a view of the mapped model file), f16/bf16 are widened to f32, quantized codes stay packed where
/// the store keeps them, LUT weights are permuted once. Only the forms the program's nodes asked for exist, and
/// <see cref="All"/> lists them for an artifact. An artifact's weights come already prepared (memory-mapped).
/// </summary>
public sealed unsafe class PreparedWeights : IDisposable
{
    private readonly List<MemoryHandle> _pins = [];
    private readonly List<object> _owned = [];
    private readonly List<IDisposable> _resources = [];
    private readonly Dictionary<(string Key, WeightForm Form), PreparedWeight> _prepared = [];
    private readonly IWeightStore? _store;
    private readonly string? _source;

    public PreparedWeights(IWeightStore store) => _store = store;

    private PreparedWeights(string source) => _source = source;

    /// <summary>Weights prepared elsewhere (an artifact's mapped weight file, <paramref name="memory"/>, which is disposed with them).</summary>
    public static PreparedWeights Prepared(string source, IDisposable memory, IEnumerable<(string Key, PreparedWeight Weight)> weights)
    {
        var result = new PreparedWeights(source);
        result._resources.Add(memory);
        foreach (var (key, w) in weights)
            if (!result._prepared.TryAdd((key, w.Form), w))
                throw new CodesignException($"{source}: weight '{key}' is listed twice in its {w.Form} form");
        return result;
    }

    /// <summary>Every weight form prepared so far, in the order first requested.</summary>
    public IEnumerable<(string Key, PreparedWeight Weight)> All => _prepared.Select(p => (p.Key.Key, p.Value));

    public DenseWeight Dense(Value weight) => (DenseWeight)Get(weight, WeightForm.Dense);

    public QuantizedWeight Quantized(Value weight) => (QuantizedWeight)Get(weight, WeightForm.Quantized);

    public LutWeight Lut(Value weight) => (LutWeight)Get(weight, WeightForm.Lut);

    public SparseRowsWeight SparseRows(Value weight) => (SparseRowsWeight)Get(weight, WeightForm.SparseRows);

    public HalfSparseWeight HalfSparse(Value weight) => (HalfSparseWeight)Get(weight, WeightForm.HalfSparse);

    private PreparedWeight Get(Value weight, WeightForm form)
    {
        string key = weight.WeightKey ?? throw new ArgumentException($"%{weight.Name} is not a weight", nameof(weight));
        if (_prepared.TryGetValue((key, form), out var known)) return known;
        if (_store is null)
            throw new CodesignException($"{_source}: weight '{key}' was not stored in the {form.ToString().ToLowerInvariant()} form its kernel reads (the artifact does not match its graph)");
        var t = GraphBinding.Weight(weight, _store);
        PreparedWeight prepared = form switch
        {
            WeightForm.Dense => PrepareDense(weight, t),
            WeightForm.Quantized => PrepareQuantized(weight, t),
            WeightForm.Lut => PrepareLut(weight, t),
            WeightForm.SparseRows => PrepareSparseRows(weight, t),
            _ => PrepareHalfSparse(weight, t),
        };
        _prepared[(key, form)] = prepared;
        return prepared;
    }

    private DenseWeight PrepareDense(Value weight, WeightTensor t) =>
        t.DType.Kind is DTypeKind.F32 or DTypeKind.F16 or DTypeKind.BF16
            ? new DenseWeight(t.Shape, Pin(FloatConversion.ToFloat32(t)))
            : throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; its kernel reads dense f32/f16/bf16 weights");

    /// <summary>Group-wise codes as stored; a pruned quantized weight computes as dense, its pruned codes at the zero point.</summary>
    private QuantizedWeight PrepareQuantized(Value weight, WeightTensor t)
    {
        var (matrix, codes) = PackedWeightCodec.DecodeCodes(t)
            ?? throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; its kernel reads group-wise quantized weights");
        nint zeros = matrix.Zeros is { } z ? Pin(z) : 0;
        return new QuantizedWeight(t.Shape, matrix.Scheme, Pin(codes), Pin(matrix.Scales), zeros);
    }

    private LutWeight PrepareLut(Value weight, WeightTensor t)
    {
        if (t.DType.Kind != DTypeKind.Quantized || !LutMpGemmKernel.Supports(t.DType.Scheme!))
            throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; LUT-mpGEMM takes 1–4-bit group-wise quantized weights");
        var matrix = (QuantizedMatrix)PackedWeightCodec.Decode(t);
        var spec = Codegen.LutLinearSpec.For(matrix.Scheme, matrix.Cols);
        int entries = LutWeightLayout.RowGroupEntries(matrix.Rows, spec.Geometry);
        var units = GC.AllocateUninitializedArray<byte>(checked((int)(Codegen.LutGeometry.RowBlocks(matrix.Rows) * spec.Geometry.BlockBytes)), pinned: true);
        var scales = GC.AllocateUninitializedArray<byte>(entries * matrix.Scheme.ScaleType.ByteSize, pinned: true);
        var zeros = GC.AllocateUninitializedArray<byte>(matrix.Scheme.Symmetric ? 0 : entries, pinned: true);
        LutWeightLayout.Build(matrix, spec.Geometry, units, scales, zeros);
        return new LutWeight(t.Shape, spec, Own(units), Own(scales), zeros.Length == 0 ? 0 : Own(zeros));
    }

    private SparseRowsWeight PrepareSparseRows(Value weight, WeightTensor t)
    {
        if (t.DType.Kind != DTypeKind.Sparse)
            throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; its kernel reads pruned (sparse) weights");
        var matrix = (SparseMatrix)PackedWeightCodec.Decode(t);
        var dense = matrix.ToDense();
        int rows = matrix.Rows, cols = matrix.Cols;
        var starts = GC.AllocateUninitializedArray<long>(rows + 1, pinned: true);
        long kept = matrix.NonZeros;
        var values = GC.AllocateUninitializedArray<float>(checked((int)kept), pinned: true);
        bool narrow = Codegen.SparseLinearSpec.IndexBytesFor(cols) == sizeof(ushort);
        var narrowColumns = GC.AllocateUninitializedArray<ushort>(narrow ? values.Length : 0, pinned: true);
        var wideColumns = GC.AllocateUninitializedArray<int>(narrow ? 0 : values.Length, pinned: true);
        int at = 0;
        for (int r = 0; r < rows; r++)
        {
            starts[r] = at;
            for (int c = 0; c < cols; c++)
            {
                long i = (long)r * cols + c;
                if (!matrix.Kept[i]) continue;
                if (narrow) narrowColumns[at] = (ushort)c;
                else wideColumns[at] = c;
                values[at++] = dense[i];
            }
        }
        starts[rows] = at;
        return new SparseRowsWeight(t.Shape, kept, Own(starts), narrow ? Own(narrowColumns) : Own(wideColumns), Own(values));
    }

    private HalfSparseWeight PrepareHalfSparse(Value weight, WeightTensor t)
    {
        if (t.DType.Sparsity is not { } format || !Codegen.HalfSparseLinearSpec.Supports(format))
            throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; its kernel reads N:M sparsity that keeps half of every 8 columns");
        var matrix = (SparseMatrix)PackedWeightCodec.Decode(t);
        var dense = matrix.ToDense();
        int rows = matrix.Rows, cols = matrix.Cols, window = Codegen.HalfSparseLinearSpec.Window;
        var indices = GC.AllocateUninitializedArray<byte>(checked(rows * (cols / 2)), pinned: true);
        var values = GC.AllocateUninitializedArray<float>(indices.Length, pinned: true);
        int at = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                long i = (long)r * cols + c;
                if (!matrix.Kept[i]) continue;
                indices[at] = (byte)(c % window);
                values[at++] = dense[i];
            }
        return new HalfSparseWeight(t.Shape, Own(indices), Own(values));
    }

    private nint Pin<T>(ReadOnlyMemory<T> memory) where T : unmanaged
    {
        var handle = memory.Pin();
        _pins.Add(handle);
        return (nint)handle.Pointer;
    }

    private nint Pin<T>(T[] array) where T : unmanaged
    {
        var copy = GC.AllocateUninitializedArray<T>(array.Length, pinned: true);
        array.CopyTo(copy, 0);
        return Own(copy);
    }

    /// <summary>Keeps an array allocated pinned alive for as long as the weights are.</summary>
    private nint Own<T>(T[] pinnedArray) where T : unmanaged
    {
        _owned.Add(pinnedArray);
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));
    }

    public void Dispose()
    {
        foreach (var p in _pins) p.Dispose();
        foreach (var r in _resources) r.Dispose();
        _pins.Clear();
        _resources.Clear();
        _owned.Clear();
        _prepared.Clear();
    }
}
