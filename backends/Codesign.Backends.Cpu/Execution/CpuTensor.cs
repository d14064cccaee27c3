using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Codesign.IR.Semantics;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// An activation on the cpu device: a pinned array (f32, or i32 for ids and positions) that kernels reach by
/// pointer, with its static shape. Reshapes share the array.
/// </summary>
public sealed unsafe class CpuTensor
{
    private CpuTensor(int[] shape, float[]? floats, int[]? ints)
    {
        Shape = shape;
        Floats = floats;
        Ints = ints;
        Pointer = floats is not null ? (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(floats))
            : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(ints!));
    }

    public int[] Shape { get; }
    public float[]? Floats { get; }
    public int[]? Ints { get; }
    /// <summary>Stable: the arrays live on the pinned object heap.</summary>
    public nint Pointer { get; }
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    public static CpuTensor NewF32(int[] shape) => new(shape, GC.AllocateUninitializedArray<float>(checked((int)Product(shape)), pinned: true), null);

    public static CpuTensor F32(int[] shape, ReadOnlySpan<float> values)
    {
        var t = NewF32(shape);
        values.CopyTo(t.Floats);
        return t;
    }

    public static CpuTensor I32(int[] shape, ReadOnlySpan<int> values)
    {
        var data = GC.AllocateUninitializedArray<int>(checked((int)Product(shape)), pinned: true);
        values.CopyTo(data);
        return new(shape, null, data);
    }

    /// <summary>A host tensor copied into pinned memory the kernels can address.</summary>
    public static CpuTensor From(HostTensor t) => t.Ints is { } ints ? I32(t.Shape, ints) : F32(t.Shape, t.Span);

    /// <summary>This tensor as a host tensor over the same arrays (no copy).</summary>
    public HostTensor ToHost() => Ints is { } ints ? HostTensor.I32(Shape, ints) : HostTensor.F32(Shape, Floats!);

    public CpuTensor Reshaped(int[] shape) => new(shape, Floats, Ints);

    private static long Product(int[] shape) => shape.Aggregate(1L, (a, d) => checked(a * d));
}
