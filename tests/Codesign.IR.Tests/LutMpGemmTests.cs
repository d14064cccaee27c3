using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Text;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

public class LutMpGemmTests
{
    internal static IEnumerable<QuantScheme> LutSchemes() =>
    [
        QuantScheme.Create(1, 32, false, DType.F32),
        QuantScheme.Create(2, 32, false, DType.F16),
        QuantScheme.Create(2, 64, true, DType.F32, ternary: true),
        QuantScheme.Create(3, 64, true, DType.F16),
        QuantScheme.Create(4, 128, true, DType.F16),
        QuantScheme.Create(4, 12, false, DType.BF16),
        QuantScheme.Create(2, 0, true, DType.F32),
    ];

    [TestCaseSource(nameof(LutSchemes))]
    public void Lookup_tables_reproduce_qmatmul_exactly_when_the_tables_need_no_rounding(QuantScheme scheme)
    {
        // Integer activations whose largest run sums to 127 make ts = 1 and every table entry an exact int8,
        // so the only difference from qmatmul left is f32 rounding: the planes, offsets and zero points are checked.
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int n = 3 + rng.Next(20), k = 7 + rng.Next(150), m = 1 + rng.Next(3);
        var w = PackedWeightTests.RandomQuantized(rng, scheme, n, k);
        int g = scheme.GroupLength(k);
        var x = new float[m * k];
        for (int row = 0; row < m; row++)
            for (int start = 0; start < k; start += g)
            {
                for (int c = start; c < Math.Min(k, start + g); c++) x[row * k + c] = rng.Next(-31, 32);
                for (int j = 0; j < 4 && start + j < k; j++) x[row * k + start + j] = 0;
                int len = Math.Min(4, k - start);
                for (int j = 0; j < len; j++) x[row * k + start + j] = (j % 2 == 0 ? 1 : -1) * (127 / len + (j < 127 % len ? 1 : 0));
            }
        var lut = LutMpGemmKernel.Evaluate(x, w, m);
        var expected = NaiveReference.Linear(x, w.ToDense(), m, n, k);
        double tolerance = 1e-5 * expected.Select(Math.Abs).Max() * Math.Sqrt(k);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(lut[i], Is.EqualTo(expected[i]).Within(tolerance), $"{scheme}, element {i}, seed {seed}");
    }

    [TestCaseSource(nameof(LutSchemes))]
    public void On_random_activations_the_int8_tables_stay_within_their_rounding_error_of_qmatmul(QuantScheme scheme)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int n = 5 + rng.Next(20), k = 33 + rng.Next(300), m = 1 + rng.Next(4);
        var w = PackedWeightTests.RandomQuantized(rng, scheme, n, k);
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var lut = LutMpGemmKernel.Evaluate(x, w, m);
        var exact = NaiveReference.Linear(x, w.ToDense(), m, n, k);
        int g = scheme.GroupLength(k), planes = LutMpGemmKernel.Planes(scheme);
        for (int row = 0; row < m; row++)
            for (int col = 0; col < n; col++)
            {
                // Each lookup is off by at most ts/2, weighted by 2^p/2 per plane and by the group's |scale|.
                double bound = 0;
                for (int gi = 0; gi < w.Groups; gi++)
                {
                    var group = x.AsSpan(row * k + gi * g, Math.Min(g, k - gi * g));
                    var t = LutMpGemmKernel.BuildTables(group);
                    bound += Math.Abs(w.Scale(col, gi)) * 0.5 * t.Scale * 0.5 * ((1 << planes) - 1) * LutMpGemmKernel.Runs(group.Length);
                }
                Assert.That(lut[row * n + col], Is.EqualTo(exact[row * n + col]).Within(bound * 1.001 + 1e-5), $"{scheme}, seed {seed}");
            }
    }

    [Test]
    public void Tables_are_symmetric_and_their_scale_maps_the_largest_run_to_127()
    {
        float[] group = [0.5f, -0.25f, 1f, 0.125f, -2f, 0.75f];
        var t = LutMpGemmKernel.BuildTables(group);
        Assert.That(t.Scale, Is.EqualTo(((2f + 0.75f) + 0f) / 127f));
        Assert.That(t.Sum, Is.EqualTo(group.Sum()));
        Assert.That(t.Entries, Has.Length.EqualTo(2 * LutMpGemmKernel.StoredEntries));
        for (int run = 0; run < 2; run++)
            for (int i = 0; i < 16; i++)
            {
                var runValues = group.Skip(run * 4).Concat([0f, 0f]).Take(4).ToArray();
                Assert.That(t.Lookup(run, i), Is.EqualTo(-t.Lookup(run, 15 - i)));
                Assert.That(t.Lookup(run, i), Is.EqualTo(LutMpGemmKernel.Quantize(LutMpGemmKernel.Entry(runValues, i), t.Scale)));
            }
        Assert.That(t.Lookup(1, 0b0001), Is.EqualTo(-127));
        Assert.That(LutMpGemmKernel.BuildTables(new float[5]).Entries, Is.All.EqualTo(0));
    }

    [Test]
    public void The_op_prints_parses_and_refuses_weights_wider_than_four_bits()
    {
        Graph Build(int bits)
        {
            var b = new GraphBuilder("g");
            var x = b.Input("x", TensorType.Of(DType.F32, "seq", 8));
            var w = b.Weight("w", TensorType.Of(DType.Quantized(QuantScheme.Create(bits, 8, true, DType.F16)), 3, 8));
            return b.Return(b.Apply(new LutMatMulOp(), "y", x, w));
        }
        string text = GraphPrinter.Print(Build(4));
        Assert.That(text, Does.Contain("lut.mpgemm(%x, %w)"));
        var parsed = GraphParser.Parse(text);
        Assert.That(parsed.Nodes.Single().Op, Is.TypeOf<LutMatMulOp>());
        Assert.That(GraphPrinter.Print(parsed), Is.EqualTo(text));
        Assert.That(() => Build(8), Throws.InstanceOf<CodesignException>().With.Message.Contain("lut.mpgemm").And.Message.Contain("1–4 bits"));
        Assert.That(() => GraphParser.Parse(text.Replace("int4", "int8")), Throws.InstanceOf<CodesignException>().With.Message.Contain("1–4 bits"));
    }
}
