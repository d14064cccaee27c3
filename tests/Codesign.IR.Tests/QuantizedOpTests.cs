using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Text;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.IR.Tests;

public class QuantizedOpTests
{
    private static float[] Run(Op op, IPackedMatrix w, float[] x, int m)
    {
        var dtype = PackedWeightCodec.DTypeOf(w);
        var b = new GraphBuilder("q");
        var xv = b.Input("x", TensorType.Of(DType.F32, "seq", w.Cols));
        var wv = b.Weight("w", TensorType.Of(dtype, w.Rows, w.Cols));
        var g = b.Return(b.Apply(op, "y", xv, wv));
        var store = new LayeredWeightStore();
        store.Set(PackedWeightCodec.Encode("w", dtype, w));
        var outputs = new ReferenceInterpreter(g, store).Run(new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([m, w.Cols], x) }, new KvCache());
        return outputs["y"].Floats.ToArray();
    }

    private static float[] RandomFloats(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    [TestCaseSource(typeof(PackedWeightTests), nameof(PackedWeightTests.Schemes))]
    public void Qmatmul_matches_a_double_precision_matmul_on_the_dequantized_weights_in_both_accumulation_orders(QuantScheme scheme)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int n = 5 + rng.Next(20), k = 33 + rng.Next(200), m = 1 + rng.Next(6);
        var w = PackedWeightTests.RandomQuantized(rng, scheme, n, k);
        var x = RandomFloats(rng, m * k);
        var expected = NaiveReference.Linear(x, w.ToDense(), m, n, k);
        var byWeight = Run(new QMatMulOp(), w, x, m);
        var byGroup = Run(new QMatMulOp(QMatMulOp.GroupAccumulate), w, x, m);
        double tolerance = 1e-5 * expected.Select(Math.Abs).Max() * Math.Sqrt(k);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(byWeight[i], Is.EqualTo(expected[i]).Within(tolerance), $"weight order, seed {seed}");
            Assert.That(byGroup[i], Is.EqualTo(expected[i]).Within(tolerance), $"group order, seed {seed}");
        }
    }

    [TestCase(8)]
    [TestCase(4)]
    public void Qmatmul_with_quantized_activations_computes_exact_integer_group_sums(int actBits)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        int n = 9, k = 101, m = 3;
        var w = PackedWeightTests.RandomQuantized(rng, scheme, n, k);
        var x = RandomFloats(rng, m * k);
        var y = Run(new QMatMulOp(actBits: actBits), w, x, m);
        int qmax = (1 << (actBits - 1)) - 1;
        for (int row = 0; row < m; row++)
        {
            float amax = 0;
            for (int c = 0; c < k; c++) amax = MathF.Max(amax, MathF.Abs(x[row * k + c]));
            float sa = amax / qmax;
            var a = Enumerable.Range(0, k).Select(c => Math.Clamp((long)Math.Round(x[row * k + c] / sa, MidpointRounding.ToEven), -qmax, qmax)).ToArray();
            for (int col = 0; col < n; col++)
            {
                float acc = 0;
                for (int g = 0; g < w.Groups; g++)
                {
                    long dot = 0;
                    for (int c = g * 32; c < Math.Min(k, g * 32 + 32); c++) dot += a[c] * (w.Codes[col * k + c] - w.Zero(col, g));
                    acc += w.Scale(col, g) * sa * dot;
                }
                Assert.That(y[row * n + col], Is.EqualTo(acc), $"bit-exact, seed {seed}");
            }
        }
    }

    [TestCaseSource(typeof(PackedWeightTests), nameof(PackedWeightTests.Formats))]
    public void Spmatmul_equals_the_dense_matmul_on_the_pruned_weights(SparseFormat format)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int n = 3 + rng.Next(20), k = (format.Kind == SparseKind.NOfM ? format.M : 1) * (5 + rng.Next(30)), m = 1 + rng.Next(5);
        var kept = PackedWeightTests.RandomMask(rng, format, n, k);
        var sparse = SparseMatrix.FromDense(format, DType.F32, n, k, kept, RandomFloats(rng, n * k));
        var x = RandomFloats(rng, m * k);
        Assert.That(Run(new SpMatMulOp(), sparse, x, m), Is.EqualTo(MatMulKernel.Linear(x, sparse.ToDense(), m, n, k)), $"seed {seed}");
        var quantized = SparseMatrix.FromQuantized(format, kept, PackedWeightTests.RandomQuantized(rng, QuantScheme.Create(4, 16, true, DType.F16), n, k));
        var expected = NaiveReference.Linear(x, quantized.ToDense(), m, n, k);
        var y = Run(new SpMatMulOp(), quantized, x, m);
        for (int i = 0; i < y.Length; i++) Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-4), $"seed {seed}");
    }

    [TestCase(8, "nm_2_4")]
    [TestCase(4, "nm_1_8")]
    [TestCase(8, "block_2x8")]
    public void Spmatmul_with_quantized_activations_is_qmatmul_with_them_on_the_pruned_codes(int actBits, string pattern)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var format = SparseFormat.FromToken(pattern);
        int n = 3 + rng.Next(20), k = 8 * (5 + rng.Next(30)), m = 1 + rng.Next(5);
        var kept = PackedWeightTests.RandomMask(rng, format, n, k);
        var codes = PackedWeightTests.RandomQuantized(rng, QuantScheme.Create(4, 32, false, DType.F16), n, k);
        var sparse = SparseMatrix.FromQuantized(format, kept, codes);
        var x = RandomFloats(rng, m * k);
        var y = Run(new SpMatMulOp(actBits), sparse, x, m);
        Assert.That(y, Is.EqualTo(Run(new QMatMulOp(actBits: actBits), sparse.Quantized!, x, m)), $"bit-exact, seed {seed}");
        // The integer path differs from the f32 one by the activations' rounding: at most half a step per activation.
        var f32 = Run(new SpMatMulOp(), sparse, x, m);
        var dense = sparse.ToDense();
        int qmax = ActivationQuantizer.MaxCode(actBits);
        for (int row = 0; row < m; row++)
        {
            double halfStep = 0.5 * x.Skip(row * k).Take(k).Max(Math.Abs) / qmax;
            for (int col = 0; col < n; col++)
            {
                double bound = halfStep * dense.Skip(col * k).Take(k).Sum(w => Math.Abs(w)) * 1.001 + 1e-5;
                Assert.That(y[row * n + col], Is.EqualTo(f32[row * n + col]).Within(bound), $"row {row}, column {col}, seed {seed}");
            }
        }
    }

    [Test]
    public void Activation_quantization_rounds_half_to_even_and_clamps()
    {
        var codes = new int[3];
        float scale = ActivationQuantizer.QuantizeRow([1f, -2f, 0.5f], codes, 8);
        Assert.That(scale, Is.EqualTo(2f / 127));
        Assert.That(codes, Is.EqualTo(new[] { (int)MathF.Round(1f / scale, MidpointRounding.ToEven), -127, (int)MathF.Round(0.5f / scale, MidpointRounding.ToEven) }));
        Assert.That(ActivationQuantizer.QuantizeRow([0f, 0f], codes, 4), Is.EqualTo(0f));
    }

    [Test]
    public void Quantized_and_sparse_types_and_their_attributes_print_and_parse_back()
    {
        string text =
            "graph @q {\n" +
            "  %x = input : tensor<[seq, 64], f32>\n" +
            "  %w = weight \"w\" : tensor<[8, 64], quant<int4, g32, asym, f16, lsb>>\n" +
            "  %s = weight \"s\" : tensor<[8, 64], sparse<nm_2_4, quant<int3, channel, sym, f32, lsb>>>\n" +
            "  %b = weight \"b\" : tensor<[8, 64], sparse<block_4x4, f16>>\n" +
            "  %0 = quant.qmatmul(%x, %w) {accumulate = \"group\", act_bits = 8} : tensor<[seq, 8], f32>\n" +
            "  %1 = sparse.spmatmul(%x, %s) : tensor<[seq, 8], f32>\n" +
            "  %2 = sparse.spmatmul(%x, %b) : tensor<[seq, 8], f32>\n" +
            "  %3 = quant.qmatmul(%x, %w) : tensor<[seq, 8], f32>\n" +
            "  %4 = sparse.spmatmul(%x, %s) {act_bits = 8} : tensor<[seq, 8], f32>\n" +
            "  return %0, %1, %2, %3, %4\n" +
            "}\n";
        var g = GraphParser.Parse(text);
        Assert.That(GraphPrinter.Print(g), Is.EqualTo(text));
        Assert.That(g.FindValue("s")!.Type.DType.Sparsity, Is.EqualTo(SparseFormat.NOfM(2, 4)));
    }

    [Test]
    public void Qmatmul_on_float_weights_spmatmul_with_a_ragged_n_of_m_and_integer_spmatmul_on_float_elements_are_verifier_errors()
    {
        var b = new GraphBuilder("bad");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 6));
        var w = b.Weight("w", TensorType.Of(DType.F32, 4, 6));
        Assert.That(() => b.Apply(new QMatMulOp(), null, x, w), Throws.TypeOf<Diagnostics.VerificationException>().With.Message.Contains("must be quantized"));
        var s = b.Weight("s", TensorType.Of(DType.Sparse(SparseFormat.NOfM(2, 4), DType.F32), 4, 6));
        Assert.That(() => b.Apply(new SpMatMulOp(), null, x, s), Throws.TypeOf<Diagnostics.VerificationException>().With.Message.Contains("multiple of 4"));
        var f = b.Weight("f", TensorType.Of(DType.Sparse(SparseFormat.NOfM(2, 4), DType.F16), 4, 8));
        var x8 = b.Input("x8", TensorType.Of(DType.F32, "seq", 8));
        Assert.That(() => b.Apply(new SpMatMulOp(8), null, x8, f), Throws.TypeOf<Diagnostics.VerificationException>().With.Message.Contains("needs quantized kept weights"));
        Assert.That(() => b.Apply(new SpMatMulOp(3), null, x8, f), Throws.TypeOf<Diagnostics.VerificationException>().With.Message.Contains("act_bits is 0"));
    }
}
