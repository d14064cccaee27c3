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

/// <summary>
/// Loads the graph's weights for the cpu kernels and keeps them pinned: f32 tensors are used in place
/// (a view of the mapped file), f16/bf16 are widened to f32, group-wise quantized tensors keep their packed codes.
/// </summary>
public sealed unsafe class PreparedWeights : IDisposable
{
    private readonly List<MemoryHandle> _pins = [];
    private readonly List<object> _owned = [];
    private readonly Dictionary<Value, PreparedWeight> _weights = [];

    public PreparedWeights(IEnumerable<Value> weights, IWeightStore store)
    {
        foreach (var w in weights) _weights[w] = Prepare(w, GraphBinding.Weight(w, store));
    }

    public PreparedWeight this[Value weight] => _weights[weight];

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
        _owned.Add(copy);
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(copy));
    }

    public void Dispose()
    {
        foreach (var p in _pins) p.Dispose();
        _pins.Clear();
        _owned.Clear();
    }
}
