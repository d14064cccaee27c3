using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>The layouts a weight can take for the cpu kernels; a weight read by two kinds of kernel has two.</summary>
public enum WeightForm { Dense, Quantized, Lut }

/// <summary>One native buffer of a prepared weight, named as an artifact's weight index names it.</summary>
public readonly record struct WeightBuffer(string Name, nint Address, long Bytes);

/// <summary>
/// A weight as kernels read it. <see cref="Buffers"/> is the one definition of each form's buffers and their sizes:
/// the store-backed preparation fills them, an artifact stores them and the loader checks them against it.
/// </summary>
public abstract record PreparedWeight(long[] Shape)
{
    public abstract WeightForm Form { get; }
    public abstract IReadOnlyList<WeightBuffer> Buffers { get; }

    /// <summary>The same weight over other memory (the buffers in <see cref="Buffers"/> order).</summary>
    public abstract PreparedWeight At(IReadOnlyList<nint> addresses);

    /// <summary>
    /// The weight of <paramref name="type"/> in <paramref name="form"/> with no memory yet: its <see cref="Buffers"/>
    /// say what must be provided for <see cref="At"/>.
    /// </summary>
    public static PreparedWeight Unbound(WeightForm form, TensorType type)
    {
        long[] shape = type.Shape.Select(d => d.Size).ToArray();
        return form switch
        {
            WeightForm.Dense => new DenseWeight(shape, 0),
            WeightForm.Quantized => new QuantizedWeight(shape, Scheme(type), 0, 0, 0),
            WeightForm.Lut => new LutWeight(shape, LutLinearSpec.For(Scheme(type), checked((int)shape[1])), 0, 0, 0),
            _ => throw new ArgumentOutOfRangeException(nameof(form)),
        };
    }

    private static QuantScheme Scheme(TensorType type) =>
        type.DType.Scheme is { } s && type.Rank == 2 ? s : throw new ArgumentException($"{type} is not a quantized matrix");

    protected static int Rows(long[] shape) => checked((int)shape[0]);
    protected static int Cols(long[] shape) => checked((int)shape[1]);
}

/// <summary>Dense f32 values (f16/bf16 weights are widened once).</summary>
public sealed record DenseWeight(long[] Shape, nint Data) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.Dense;
    public override IReadOnlyList<WeightBuffer> Buffers => [new("data", Data, Shape.Aggregate(1L, (a, d) => checked(a * d)) * sizeof(float))];
    public override PreparedWeight At(IReadOnlyList<nint> addresses) => this with { Data = addresses[0] };
}

/// <summary>The packed codes as stored (<see cref="QuantizedLayout"/>), scales widened to f32, u8 zero points (none when symmetric).</summary>
public sealed record QuantizedWeight(long[] Shape, QuantScheme Scheme, nint Codes, nint Scales, nint Zeros) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.Quantized;

    public override IReadOnlyList<WeightBuffer> Buffers
    {
        get
        {
            var layout = new QuantizedLayout(Scheme, Rows(Shape), Cols(Shape));
            long entries = (long)layout.Rows * layout.Groups;
            return Scheme.Symmetric
                ? [new("codes", Codes, layout.CodesBytes), new("scales", Scales, entries * sizeof(float))]
                : [new("codes", Codes, layout.CodesBytes), new("scales", Scales, entries * sizeof(float)), new("zeros", Zeros, entries)];
        }
    }

    public override PreparedWeight At(IReadOnlyList<nint> addresses) =>
        this with { Codes = addresses[0], Scales = addresses[1], Zeros = Scheme.Symmetric ? 0 : addresses[2] };
}

/// <summary>A quantized weight permuted for LUT-mpGEMM (<see cref="LutWeightLayout"/>): units, scales in their stored dtype, u8 zero points.</summary>
public sealed record LutWeight(long[] Shape, LutLinearSpec Spec, nint Units, nint Scales, nint Zeros) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.Lut;

    public override IReadOnlyList<WeightBuffer> Buffers
    {
        get
        {
            var geo = Spec.Geometry;
            long entries = LutWeightLayout.RowGroupEntries(Rows(Shape), geo);
            long units = LutGeometry.RowBlocks(Rows(Shape)) * geo.BlockBytes;
            long scales = entries * (Spec.ScaleType == DTypeKind.F32 ? sizeof(float) : sizeof(ushort));
            return Spec.ImplicitZero is not null
                ? [new("units", Units, units), new("scales", Scales, scales)]
                : [new("units", Units, units), new("scales", Scales, scales), new("zeros", Zeros, entries)];
        }
    }

    public override PreparedWeight At(IReadOnlyList<nint> addresses) =>
        this with { Units = addresses[0], Scales = addresses[1], Zeros = Spec.ImplicitZero is not null ? 0 : addresses[2] };
}
