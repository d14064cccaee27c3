using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>The layouts a weight can take for the cpu kernels; a weight read by two kinds of kernel has two.</summary>
public enum WeightForm { Dense, Quantized, Lut, SparseRows, HalfSparse }

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

    /// <summary>
    /// The same weight over other memory: <paramref name="stored"/> in <see cref="Buffers"/> order, whose sizes match
    /// those of <see cref="Buffers"/> (a size of -1 there depends on the data: the form checks the contents).
    /// </summary>
    public abstract PreparedWeight At(IReadOnlyList<WeightBuffer> stored);

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
            WeightForm.SparseRows when type.Rank == 2 => new SparseRowsWeight(shape, -1, 0, 0, 0),
            WeightForm.HalfSparse when type.Rank == 2 && type.DType.Sparsity is { } f && HalfSparseLinearSpec.Supports(f) => new HalfSparseWeight(shape, 0, 0),
            _ => throw new ArgumentOutOfRangeException(nameof(form)),
        };
    }

    private static QuantScheme Scheme(TensorType type) =>
        type.DType.CodeScheme is { } s && type.Rank == 2 ? s : throw new ArgumentException($"{type} is not a quantized matrix");

    protected static int Rows(long[] shape) => checked((int)shape[0]);
    protected static int Cols(long[] shape) => checked((int)shape[1]);
}

/// <summary>Dense f32 values (f16/bf16 weights are widened once).</summary>
public sealed record DenseWeight(long[] Shape, nint Data) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.Dense;
    public override IReadOnlyList<WeightBuffer> Buffers => [new("data", Data, Shape.Aggregate(1L, (a, d) => checked(a * d)) * sizeof(float))];
    public override PreparedWeight At(IReadOnlyList<WeightBuffer> stored) => this with { Data = stored[0].Address };
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

    public override PreparedWeight At(IReadOnlyList<WeightBuffer> stored) =>
        this with { Codes = stored[0].Address, Scales = stored[1].Address, Zeros = Scheme.Symmetric ? 0 : stored[2].Address };
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

    public override PreparedWeight At(IReadOnlyList<WeightBuffer> stored) =>
        this with { Units = stored[0].Address, Scales = stored[1].Address, Zeros = Spec.ImplicitZero is not null ? 0 : stored[2].Address };
}

/// <summary>
/// A pruned weight as gathered rows (<see cref="SparseLinearSpec"/>): i64 row starts [N+1], then per kept weight its
/// column (u16 or i32) and f32 value, row by row. Quantized kept values are stored dequantized, as the interpreter
/// computes them. <see cref="StoredValues"/> is -1 until bound to data.
/// </summary>
public sealed unsafe record SparseRowsWeight(long[] Shape, long StoredValues, nint RowStarts, nint Columns, nint Values) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.SparseRows;
    public int IndexBytes => SparseLinearSpec.IndexBytesFor(Cols(Shape));

    public override IReadOnlyList<WeightBuffer> Buffers =>
    [
        new("row_starts", RowStarts, (Shape[0] + 1) * sizeof(long)),
        new("columns", Columns, StoredValues < 0 ? -1 : StoredValues * IndexBytes),
        new("values", Values, StoredValues < 0 ? -1 : StoredValues * sizeof(float)),
    ];

    /// <summary>Binds to stored buffers after checking that every row start and column stays inside them.</summary>
    public override PreparedWeight At(IReadOnlyList<WeightBuffer> stored)
    {
        long count = stored[2].Bytes / sizeof(float);
        if (stored[2].Bytes % sizeof(float) != 0 || stored[1].Bytes != count * IndexBytes)
            throw new ArgumentException($"columns ({stored[1].Bytes} bytes) and values ({stored[2].Bytes} bytes) do not describe the same kept weights");
        var starts = new ReadOnlySpan<long>((void*)stored[0].Address, Rows(Shape) + 1);
        if (starts[0] != 0 || starts[^1] != count)
            throw new ArgumentException($"row starts run from {starts[0]} to {starts[^1]}, not from 0 to the {count} kept weights");
        for (int r = 0; r < Rows(Shape); r++)
            if (starts[r + 1] < starts[r] || starts[r + 1] - starts[r] > Cols(Shape))
                throw new ArgumentException($"row {r} starts at {starts[r]} and ends at {starts[r + 1]}");
        long cols = Cols(Shape);
        for (long i = 0; i < count; i++)
        {
            long c = IndexBytes == sizeof(ushort) ? ((ushort*)stored[1].Address)[i] : ((int*)stored[1].Address)[i];
            if (c < 0 || c >= cols) throw new ArgumentException($"kept weight {i} has column {c}, outside K = {cols}");
        }
        return this with { StoredValues = count, RowStarts = stored[0].Address, Columns = stored[1].Address, Values = stored[2].Address };
    }
}

/// <summary>
/// N:M sparsity keeping half of every 8 columns, for <see cref="HalfSparseLinearSpec"/>: per row its K/2 kept weights
/// in column order, each as a u8 index into its window of 8 columns and an f32 value (quantized values dequantized).
/// </summary>
public sealed unsafe record HalfSparseWeight(long[] Shape, nint Indices, nint Values) : PreparedWeight(Shape)
{
    public override WeightForm Form => WeightForm.HalfSparse;

    private long Kept => (long)Rows(Shape) * (Cols(Shape) / 2);

    public override IReadOnlyList<WeightBuffer> Buffers => [new("indices", Indices, Kept), new("values", Values, Kept * sizeof(float))];

    /// <summary>Binds to stored buffers after checking that every index stays inside its window and the matrix.</summary>
    public override PreparedWeight At(IReadOnlyList<WeightBuffer> stored)
    {
        int cols = Cols(Shape), perRow = cols / 2, half = HalfSparseLinearSpec.Window / 2;
        byte* indices = (byte*)stored[0].Address;
        for (long i = 0; i < Kept; i++)
        {
            long window = i % perRow / half * HalfSparseLinearSpec.Window;
            if (window + indices[i] >= Math.Min(cols, window + HalfSparseLinearSpec.Window))
                throw new ArgumentException($"kept weight {i} has index {indices[i]} in the window at column {window}, outside the window or K = {cols}");
        }
        return this with { Indices = stored[0].Address, Values = stored[1].Address };
    }
}
