using Codesign.IR.Ops;
using Codesign.IR.Semantics;

namespace Codesign.IR.Tests;

/// <summary>Each op's reference semantics against the naive f64 versions, on random data of odd sizes (fresh seed per run).</summary>
public class OpSemanticsTests
{
    private static readonly EvalContext NoState = new(new Dictionary<string, long>(), new KvCache());

    private static float[] Random(int n, double scale = 1.0)
    {
        var r = TestContext.CurrentContext.Random;
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return a;
    }

    private static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double relative, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        double scale = Math.Max(1e-6, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(actual[i] - expected[i]) > relative * scale)
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {relative * scale:G3})");
        }
    }

    [TestCase(1, 1, 1)]
    [TestCase(1, 13, 37)]
    [TestCase(3, 5, 8)]
    [TestCase(4, 33, 31)]
    [TestCase(7, 65, 129)]
    [TestCase(9, 3, 300)]
    [TestCase(130, 70, 45)]
    public void Matmul_matches_the_naive_product(int m, int n, int k)
    {
        var x = Random(m * k);
        var w = Random(n * k);
        var y = new MatMulOp().Evaluate([HostTensor.F32([m, k], x), HostTensor.F32([n, k], w)], NoState)[0];
        Assert.That(y.Shape, Is.EqualTo(new[] { m, n }));
        AssertClose(y.Span, NaiveReference.Linear(x, w, m, n, k), 1e-5, "matmul");
    }

    [Test]
    public void Matmul_rows_do_not_depend_on_how_many_rows_run_together()
    {
        int n = 37, k = 53;
        var x = Random(6 * k);
        var w = Random(n * k);
        var all = MatMulKernel.Linear(x, w, 6, n, k);
        for (int r = 0; r < 6; r++)
        {
            var one = MatMulKernel.Linear(x.AsMemory(r * k, k), w, 1, n, k);
            Assert.That(one, Is.EqualTo(all.AsSpan(r * n, n).ToArray()), $"row {r}");
        }
    }

    [TestCase(1, 7), TestCase(5, 33), TestCase(3, 256)]
    public void Rms_norm_matches(int rows, int d)
    {
        var x = Random(rows * d, 3);
        var w = Random(d);
        var y = new RmsNormOp(1e-5).Evaluate([HostTensor.F32([rows, d], x), HostTensor.F32([d], w)], NoState)[0];
        AssertClose(y.Span, NaiveReference.RmsNorm(x, w, rows, d, 1e-5), 1e-5, "rms_norm");
    }

    [TestCase(3, 2, 6, 10000.0), TestCase(5, 3, 34, 500000.0)]
    public void Rope_matches(int s, int h, int d, double theta)
    {
        var x = Random(s * h * d);
        var pos = Enumerable.Range(0, s).Select(i => 7 * i + 3).ToArray();
        var y = new RopeOp(theta).Evaluate([HostTensor.F32([s, h, d], x), HostTensor.I32([s], pos)], NoState)[0];
        AssertClose(y.Span, NaiveReference.Rope(x, pos, s, h, d, theta), 1e-5, "rope");
    }

    [TestCase(5, 4, 2, 6)]
    [TestCase(3, 3, 3, 10)]
    [TestCase(7, 6, 1, 5)]
    public void Attention_over_a_cache_matches_prefill_then_decode(int s, int h, int kvh, int d)
    {
        int steps = 3;
        int total = s + steps;
        var q = Random(total * h * d);
        var k = Random(total * kvh * d);
        var v = Random(total * kvh * d);
        double scale = 1 / Math.Sqrt(d);
        var expected = NaiveReference.Attention(q, k, v, total, 0, h, kvh, d, scale);
        var cache = new KvCache();
        var context = new EvalContext(new Dictionary<string, long>(), cache);
        var op = new AttentionOp(3, scale);

        HostTensor Step(int from, int count) => op.Evaluate([
            HostTensor.F32([count, h, d], q.AsMemory(from * h * d, count * h * d)),
            HostTensor.F32([count, kvh, d], k.AsMemory(from * kvh * d, count * kvh * d)),
            HostTensor.F32([count, kvh, d], v.AsMemory(from * kvh * d, count * kvh * d))], context)[0];

        var prefill = Step(0, s);
        AssertClose(prefill.Span, expected[..(s * h * d)], 1e-5, "prefill");
        for (int t = s; t < total; t++)
        {
            var decode = Step(t, 1);
            AssertClose(decode.Span, expected[(t * h * d)..((t + 1) * h * d)], 1e-5, $"decode step at position {t}");
        }
        Assert.That(cache.Layer(3).Length, Is.EqualTo(total));
    }

    [TestCase(1, 9), TestCase(4, 130)]
    public void Softmax_matches(int rows, int d)
    {
        var x = Random(rows * d, 20);
        var y = new SoftmaxOp().Evaluate([HostTensor.F32([rows, d], x)], NoState)[0];
        AssertClose(y.Span, NaiveReference.Softmax(x, rows, d), 1e-5, "softmax");
    }

    [Test]
    public void Elementwise_ops_match()
    {
        var a = Random(37, 6);
        var b = Random(37, 6);
        var ta = HostTensor.F32([37], a);
        var tb = HostTensor.F32([37], b);
        AssertClose(new AddOp().Evaluate([ta, tb], NoState)[0].Span, a.Zip(b, (p, q) => (double)p + q).ToArray(), 1e-6, "add");
        AssertClose(new MulOp().Evaluate([ta, tb], NoState)[0].Span, a.Zip(b, (p, q) => (double)p * q).ToArray(), 1e-6, "mul");
        AssertClose(new SiluOp().Evaluate([ta], NoState)[0].Span, a.Select(p => p / (1 + Math.Exp(-p))).ToArray(), 1e-5, "silu");
    }

    [Test]
    public void Transpose_moves_each_element_to_its_permuted_index()
    {
        int[] shape = [2, 3, 5];
        var x = Enumerable.Range(0, 30).Select(i => (float)i).ToArray();
        var y = new TransposeOp([2, 0, 1]).Evaluate([HostTensor.F32(shape, x)], NoState)[0];
        Assert.That(y.Shape, Is.EqualTo(new[] { 5, 2, 3 }));
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 5; c++)
                    Assert.That(y.Span[c * 6 + a * 3 + b], Is.EqualTo(x[a * 15 + b * 5 + c]));
    }

    [Test]
    public void Reshape_binds_symbols_and_keeps_data()
    {
        var x = Random(12);
        var ctx = new EvalContext(new Dictionary<string, long> { ["seq"] = 2 }, new KvCache());
        var y = new ReshapeOp(["seq", 3, 2]).Evaluate([HostTensor.F32([2, 6], x)], ctx)[0];
        Assert.That(y.Shape, Is.EqualTo(new[] { 2, 3, 2 }));
        Assert.That(y.Span.ToArray(), Is.EqualTo(x));
    }

    [Test]
    public void Embedding_gathers_rows_and_rejects_ids_outside_the_table()
    {
        var table = Random(5 * 3);
        var y = new EmbeddingOp().Evaluate([HostTensor.I32([2], [4, 0]), HostTensor.F32([5, 3], table)], NoState)[0];
        Assert.That(y.Span.ToArray(), Is.EqualTo(table[12..15].Concat(table[..3]).ToArray()));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingOp().Evaluate([HostTensor.I32([1], [5]), HostTensor.F32([5, 3], table)], NoState))!;
        Assert.That(e.Message, Does.Contain("nn.embedding").And.Contain("index 5"));
    }
}
