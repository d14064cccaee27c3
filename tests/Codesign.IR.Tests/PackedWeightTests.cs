using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

public class PackedWeightTests
{
    internal static QuantizedMatrix RandomQuantized(Random rng, QuantScheme scheme, int rows, int cols)
    {
        var codes = new byte[rows * cols];
        for (int i = 0; i < codes.Length; i++) codes[i] = (byte)rng.Next(scheme.MaxCode + 1);
        var scales = new float[rows * scheme.GroupCount(cols)];
        for (int i = 0; i < scales.Length; i++) scales[i] = FloatStorage.Round((float)(rng.NextDouble() * 0.1 + 1e-3) * (rng.Next(2) * 2 - 1), scheme.ScaleType);
        byte[]? zeros = null;
        if (!scheme.Symmetric)
        {
            zeros = new byte[scales.Length];
            for (int i = 0; i < zeros.Length; i++) zeros[i] = (byte)rng.Next(scheme.MaxCode + 1);
        }
        return new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
    }

    internal static IEnumerable<QuantScheme> Schemes()
    {
        foreach (int bits in new[] { 2, 3, 4, 5, 8 })
            foreach (int group in new[] { 0, 32, 64, 128 })
                foreach (bool sym in new[] { true, false })
                    yield return QuantScheme.Create(bits, group, sym, group == 64 ? DType.F32 : DType.F16);
        yield return QuantScheme.Create(4, 128, false, DType.BF16);
        yield return QuantScheme.Create(2, 0, true, DType.F16, ternary: true);
        yield return QuantScheme.Create(2, 64, true, DType.F32, ternary: true);
    }

    [Test]
    public void Bit_packing_puts_the_first_value_in_the_low_bits_and_lets_values_straddle_bytes()
    {
        var bytes = new byte[BitPacking.ByteCount(4, 3)];
        BitPacking.Pack([1, 2, 3, 7], 3, bytes);
        // 1 | 2<<3 | 3<<6 = 0xD1; then 3>>2 = 0 | 7<<1 = 0x0E.
        Assert.That(bytes, Is.EqualTo(new byte[] { 0xD1, 0x0E }));
        var back = new byte[4];
        BitPacking.Unpack(bytes, 3, back);
        Assert.That(back, Is.EqualTo(new byte[] { 1, 2, 3, 7 }));
    }

    [Test]
    public void Quantized_layout_is_codes_by_row_then_aligned_scales_then_aligned_zero_points()
    {
        var layout = new QuantizedLayout(QuantScheme.Create(4, 32, false, DType.F16), 3, 40);
        Assert.Multiple(() =>
        {
            Assert.That(layout.RowCodeBytes, Is.EqualTo(20));
            Assert.That(layout.Groups, Is.EqualTo(2));
            Assert.That(layout.ScalesOffset, Is.EqualTo(64));
            Assert.That(layout.ScalesBytes, Is.EqualTo(12));
            Assert.That(layout.ZerosOffset, Is.EqualTo(80));
            Assert.That(layout.TotalBytes, Is.EqualTo(86));
        });
    }

    [TestCaseSource(nameof(Schemes))]
    public void Every_scheme_round_trips_through_its_packing_on_odd_sizes(QuantScheme scheme)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var m = RandomQuantized(rng, scheme, 7 + rng.Next(5), 97 + rng.Next(150));
        var back = QuantizedMatrix.Unpack(scheme, m.Rows, m.Cols, m.Pack());
        Assert.Multiple(() =>
        {
            Assert.That(back.Codes, Is.EqualTo(m.Codes), $"seed {seed}");
            Assert.That(back.Scales, Is.EqualTo(m.Scales), $"seed {seed}");
            Assert.That(back.Zeros, Is.EqualTo(m.Zeros), $"seed {seed}");
            Assert.That(back.ToDense(), Is.EqualTo(m.ToDense()), $"seed {seed}");
        });
    }

    [Test]
    public void Dequantization_is_scale_times_code_minus_zero()
    {
        var sym = new QuantizedMatrix(QuantScheme.Create(4, 2, true, DType.F32), 1, 3, [0, 15, 9], [0.5f, 2f], null);
        Assert.That(sym.ToDense(), Is.EqualTo(new[] { -4f, 3.5f, 2f }));
        var asym = new QuantizedMatrix(QuantScheme.Create(3, 0, false, DType.F32), 1, 3, [0, 7, 2], [0.25f], [2]);
        Assert.That(asym.ToDense(), Is.EqualTo(new[] { -0.5f, 1.25f, 0f }));
        var ternary = new QuantizedMatrix(QuantScheme.Create(2, 0, true, DType.F32, ternary: true), 1, 3, [0, 1, 2], [0.75f], null);
        Assert.That(ternary.ToDense(), Is.EqualTo(new[] { -0.75f, 0f, 0.75f }));
    }

    [Test]
    public void Unpacking_rejects_a_wrong_size_an_out_of_range_code_and_a_non_finite_scale()
    {
        var ternary = QuantScheme.Create(2, 0, true, DType.F32, ternary: true);
        var m = new QuantizedMatrix(ternary, 1, 4, [0, 1, 2, 1], [1f], null);
        var bytes = m.Pack();
        Assert.That(() => QuantizedMatrix.Unpack(ternary, 1, 4, bytes.AsSpan(1)), Throws.TypeOf<CodesignException>().With.Message.Contains("bytes"));
        var badCode = (byte[])bytes.Clone();
        badCode[0] = 0xFF;
        Assert.That(() => QuantizedMatrix.Unpack(ternary, 1, 4, badCode), Throws.TypeOf<CodesignException>().With.Message.Contains("code 3"));
        var badScale = (byte[])bytes.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(badScale, (int)m.Layout.ScalesOffset);
        Assert.That(() => QuantizedMatrix.Unpack(ternary, 1, 4, badScale), Throws.TypeOf<CodesignException>().With.Message.Contains("not finite"));
    }

    internal static bool[] RandomMask(Random rng, SparseFormat f, int rows, int cols)
    {
        var kept = new bool[rows * cols];
        switch (f.Kind)
        {
            case SparseKind.NOfM:
                for (int r = 0; r < rows; r++)
                    for (int g = 0; g < cols; g += f.M)
                        foreach (int j in Enumerable.Range(0, f.M).OrderBy(_ => rng.Next()).Take(f.N))
                            kept[r * cols + g + j] = true;
                break;
            case SparseKind.Block:
                int gridCols = (cols + f.BlockCols - 1) / f.BlockCols;
                var blocks = Enumerable.Range(0, (rows + f.BlockRows - 1) / f.BlockRows * gridCols).Select(_ => rng.Next(2) == 0).ToArray();
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        kept[r * cols + c] = blocks[r / f.BlockRows * gridCols + c / f.BlockCols];
                break;
            default:
                for (int i = 0; i < kept.Length; i++) kept[i] = rng.NextDouble() < 0.4;
                break;
        }
        return kept;
    }

    internal static IEnumerable<SparseFormat> Formats() =>
        [SparseFormat.NOfM(2, 4), SparseFormat.NOfM(4, 8), SparseFormat.NOfM(1, 4), SparseFormat.NOfM(3, 16), SparseFormat.Block(1, 8), SparseFormat.Block(4, 4), SparseFormat.Unstructured];

    [TestCaseSource(nameof(Formats))]
    public void Sparse_weights_round_trip_with_float_and_quantized_elements(SparseFormat format)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int rows = 5 + rng.Next(9), cols = (format.Kind == SparseKind.NOfM ? format.M : 1) * (7 + rng.Next(20));
        var kept = RandomMask(rng, format, rows, cols);
        var dense = Enumerable.Range(0, rows * cols).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        foreach (var element in new[] { DType.F32, DType.F16 })
        {
            var s = SparseMatrix.FromDense(format, element, rows, cols, kept, dense);
            var back = SparseMatrix.Unpack(format, element, rows, cols, s.Pack());
            Assert.That(back.Kept, Is.EqualTo(kept), $"seed {seed}");
            Assert.That(back.ToDense(), Is.EqualTo(s.ToDense()), $"seed {seed}");
            for (int i = 0; i < dense.Length; i++)
                Assert.That(s.ToDense()[i], Is.EqualTo(kept[i] ? FloatStorage.Round(dense[i], element) : 0f), $"seed {seed}");
        }
        var scheme = QuantScheme.Create(3, 16, false, DType.F16);
        var q = SparseMatrix.FromQuantized(format, kept, RandomQuantized(rng, scheme, rows, cols));
        var qback = SparseMatrix.Unpack(format, DType.Quantized(scheme), rows, cols, q.Pack());
        Assert.That(qback.ToDense(), Is.EqualTo(q.ToDense()), $"seed {seed}");
        var qd = q.ToDense();
        for (int i = 0; i < qd.Length; i++)
            if (!kept[i]) Assert.That(qd[i], Is.EqualTo(0f));
    }

    [Test]
    public void Two_of_four_storage_is_two_bit_offsets_then_values()
    {
        bool[] kept = [true, false, false, true, false, true, true, false];
        var s = SparseMatrix.FromDense(SparseFormat.NOfM(2, 4), DType.F32, 1, 8, kept, [1, 0, 0, 2, 0, 3, 4, 0]);
        var bytes = s.Pack();
        // offsets 0,3,1,2 in 2 bits each: 0 | 3<<2 | 1<<4 | 2<<6 = 0x9C
        Assert.That(bytes[0], Is.EqualTo(0x9C));
        Assert.That(bytes, Has.Length.EqualTo(16 + 4 * 4));
        Assert.That(BitConverter.ToSingle(bytes, 16 + 8), Is.EqualTo(3f));
    }

    [Test]
    public void Sparse_masks_that_break_the_format_and_hostile_structures_are_refused()
    {
        var f = SparseFormat.NOfM(2, 4);
        Assert.That(() => SparseMatrix.FromDense(f, DType.F32, 1, 4, [true, true, true, false], new float[4]),
            Throws.ArgumentException.With.Message.Contains("keep 3"));
        Assert.That(() => SparseMatrix.FromDense(SparseFormat.Block(2, 2), DType.F32, 2, 2, [true, false, true, true], new float[4]),
            Throws.ArgumentException.With.Message.Contains("partly kept"));
        var bytes = SparseMatrix.FromDense(f, DType.F32, 1, 4, [true, true, false, false], [1, 2, 0, 0]).Pack();
        bytes[0] = 0b0000_0101; // offsets 1, 1: not ascending
        Assert.That(() => SparseMatrix.Unpack(f, DType.F32, 1, 4, bytes), Throws.TypeOf<CodesignException>().With.Message.Contains("ascend"));
        Assert.That(() => SparseMatrix.Unpack(f, DType.F32, 1, 4, bytes.AsSpan(0, 10)), Throws.TypeOf<CodesignException>());
        var mask = SparseMatrix.FromDense(SparseFormat.Unstructured, DType.F32, 1, 8, [true, true, true, true, true, true, true, true], new float[8]).Pack();
        Assert.That(() => SparseMatrix.Unpack(SparseFormat.Unstructured, DType.F32, 1, 8, mask.AsSpan(0, mask.Length - 4)), Throws.TypeOf<CodesignException>().With.Message.Contains("8 kept"));
    }
}
