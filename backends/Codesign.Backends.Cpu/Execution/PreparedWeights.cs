using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>A weight as kernels read it: dense f32 rows, or packed codes plus f32 scales and u8 zero points.</summary>
public abstract record PreparedWeight(long[] Shape);

public sealed record DenseWeight(long[] Shape, nint Data) : PreparedWeight(Shape);

/// <summary>Codes stay where the store keeps them (memory-mapped when the model file is); scales are widened to f32 once.</summary>
public sealed record QuantizedWeight(long[] Shape, QuantScheme Scheme, nint Codes, nint Scales, nint Zeros) : PreparedWeight(Shape);

/// <summary>A quantized weight permuted for LUT-mpGEMM (<see cref="LutWeightLayout"/>).</summary>
public sealed record LutWeight(long[] Shape, Codegen.LutLinearSpec Spec, nint Units, nint Scales, nint Zeros) : PreparedWeight(Shape);

/// <summary>
/// Loads the graph's weights for the cpu kernels and keeps them pinned: f32 tensors are used in place
/// (a view of the mapped file), f16/bf16 are widened to f32, group-wise quantized tensors keep their packed codes.
/// </summary>
public sealed unsafe class PreparedWeights : IDisposable
{
    private readonly List<MemoryHandle> _pins = [];
    private readonly List<object> _owned = [];
    private readonly Dictionary<Value, PreparedWeight> _weights = [];
    private readonly Dictionary<Value, LutWeight> _lutWeights = [];
    private readonly IWeightStore _store;

    public PreparedWeights(IEnumerable<Value> weights, IWeightStore store)
    {
        _store = store;
        foreach (var w in weights) _weights[w] = Prepare(w, GraphBinding.Weight(w, store));
    }

    public PreparedWeight this[Value weight] => _weights[weight];

    /// <summary>The weight permuted for the LUT kernels, built on first use (a weight may serve both kernel kinds).</summary>
    public LutWeight Lut(Value weight)
    {
        if (_lutWeights.TryGetValue(weight, out var known)) return known;
        var t = GraphBinding.Weight(weight, _store);
        if (t.DType.Kind != DTypeKind.Quantized || !LutMpGemmKernel.Supports(t.DType.Scheme!))
            throw new CodesignException($"cpu backend: weight %{weight.Name} is {t.DType}; LUT-mpGEMM takes 1–4-bit group-wise quantized weights");
        var matrix = (QuantizedMatrix)PackedWeightCodec.Decode(t);
        var spec = Codegen.LutLinearSpec.For(matrix.Scheme, matrix.Cols);
        int entries = LutWeightLayout.RowGroupEntries(matrix, spec.Geometry);
        var units = GC.AllocateUninitializedArray<byte>(checked((int)(Codegen.LutGeometry.RowBlocks(matrix.Rows) * spec.Geometry.BlockBytes)), pinned: true);
        var scales = GC.AllocateUninitializedArray<byte>(entries * matrix.Scheme.ScaleType.ByteSize, pinned: true);
        var zeros = GC.AllocateUninitializedArray<byte>(matrix.Scheme.Symmetric ? 0 : entries, pinned: true);
        LutWeightLayout.Build(matrix, spec.Geometry, units, scales, zeros);
        return _lutWeights[weight] = new LutWeight(t.Shape, spec, Own(units), Own(scales), zeros.Length == 0 ? 0 : Own(zeros));
    }

    private PreparedWeight Prepare(Value value, WeightTensor t)
    {
        switch (t.DType.Kind)
        {
            case DTypeKind.F32 or DTypeKind.F16 or DTypeKind.BF16:
                return new DenseWeight(t.Shape, Pin(FloatConversion.ToFloat32(t)));
            case DTypeKind.Quantized:
                var matrix = (QuantizedMatrix)PackedWeightCodec.Decode(t);
                nint zeros = matrix.Zeros is { } z ? Pin(z) : 0;
                return new QuantizedWeight(t.Shape, matrix.Scheme, Pin(t.Data), Pin(matrix.Scales), zeros);
            default:
                throw new CodesignException($"cpu backend: weight %{value.Name} is {t.DType}, which the cpu kernels do not read yet (f32/f16/bf16 and group-wise quantized)");
        }
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
        _pins.Clear();
        _owned.Clear();
        _lutWeights.Clear();
    }
}
