using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Semantics;
using static Codesign.Backends.Cpu.Tests.KernelHarness;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>The non-matmul kernels against the interpreter's kernels on random inputs of odd sizes.</summary>
public class OpKernelTests
{
    [TestCase(ElementwiseKind.Add), TestCase(ElementwiseKind.Mul), TestCase(ElementwiseKind.Silu)]
    public void Elementwise_matches_the_interpreter(ElementwiseKind kind)
    {
        var r = Fresh();
        int n = 1000 + r.Next(100);
        var (a, b) = (RandomFloats(r, n, 16), RandomFloats(r, n, 16));
        var y = new float[n];
        using var h = new KernelHarness(new ElementwiseSpec(kind));
        h.Run([h.Pin(a), h.Pin(b), h.Pin(y)], n);
        var expected = kind switch
        {
            ElementwiseKind.Add => ElementwiseKernels.Add(a, b),
            ElementwiseKind.Mul => ElementwiseKernels.Mul(a, b),
            _ => ElementwiseKernels.Silu(a),
        };
        if (kind == ElementwiseKind.Silu) AssertClose(y, expected, 1e-6);
        else Assert.That(y, Is.EqualTo(expected), "exact: one IEEE operation per element");
    }

    [TestCase(new[] { 37, 53 }, new[] { 1, 0 }), TestCase(new[] { 5, 7, 9 }, new[] { 2, 0, 1 }), TestCase(new[] { 3, 4, 5, 6 }, new[] { 0, 2, 3, 1 }),
     TestCase(new[] { 3, 4, 5, 6 }, new[] { 3, 2, 1, 0 }), TestCase(new[] { 11, 13 }, new[] { 0, 1 }), TestCase(new[] { 257 }, new[] { 0 })]
    public void Transpose_copies_exactly_what_the_interpreter_does(int[] shape, int[] perm)
    {
        var r = Fresh();
        var x = RandomFloats(r, shape.Aggregate(1L, (a, d) => a * d));
        var y = new float[x.Length];
        using var h = new KernelHarness(new TransposeSpec(perm));
        int last = shape[perm[^1]];
        h.Run([h.Pin(x), h.Pin(y), .. shape.Select(d => (long)d)], x.Length / last);
        Assert.That(y, Is.EqualTo(ShapeKernels.Transpose(x, shape, perm)));
    }

    [Test]
    public void A_transpose_over_a_symbolic_axis_runs_in_a_compiled_graph()
    {
        var r = Fresh();
        var b = new IR.Graphs.GraphBuilder("t");
        var xv = b.Input("x", IR.Types.TensorType.Of(IR.Types.DType.F32, "seq", 6, 10));
        var g = b.Return(b.Apply(new IR.Ops.TransposeOp([1, 0, 2]), "y", xv));
        using var program = Execution.CpuProgram.Compile(g, new IR.Weights.LayeredWeightStore(), threads: 2);
        var x = RandomFloats(r, 9 * 6 * 10);
        var y = program.Run(new Dictionary<string, Execution.CpuTensor> { ["x"] = Execution.CpuTensor.F32([9, 6, 10], x) }, new KvCache())["y"];
        Assert.That(y.Shape, Is.EqualTo(new[] { 6, 9, 10 }));
        Assert.That(y.Floats, Is.EqualTo(ShapeKernels.Transpose(x, [9, 6, 10], [1, 0, 2])));
    }

    [Test]
    public void Rms_norm_matches_the_interpreter()
    {
        var r = Fresh();
        int rows = 7, d = 133;
        var (x, w) = (RandomFloats(r, rows * d, 6), RandomFloats(r, d));
        var y = new float[rows * d];
        using var h = new KernelHarness(new RmsNormSpec(d, 1e-6));
        h.Run([h.Pin(x), h.Pin(w), h.Pin(y)], rows);
        AssertClose(y, NormKernels.RmsNorm(x, w, rows, d, 1e-6), 1e-6);
    }

    [Test]
    public void Softmax_matches_the_interpreter()
    {
        var r = Fresh();
        int rows = 5, d = 77;
        var x = RandomFloats(r, rows * d, 20);
        var y = new float[rows * d];
        using var h = new KernelHarness(new SoftmaxSpec(d));
        h.Run([h.Pin(x), h.Pin(y)], rows);
        AssertClose(y, NormKernels.Softmax(x, rows, d), 1e-5);
    }

    [Test]
    public void Rope_matches_the_interpreter_at_large_positions()
    {
        var r = Fresh();
        int tokens = 6, heads = 3, headDim = 22;
        var x = RandomFloats(r, tokens * heads * headDim);
        var positions = Enumerable.Range(0, tokens).Select(_ => r.Next(4000)).ToArray();
        var y = new float[x.Length];
        using var h = new KernelHarness(new RopeSpec(heads, headDim, 500000.0));
        h.Run([h.Pin(x), h.Pin(positions), h.Pin(y)], tokens);
        Assert.That(y, Is.EqualTo(RopeKernel.Apply(x, positions, tokens, heads, headDim, 500000.0)), "same f32 angles, same libm cos/sin");
    }

    [TestCase(0, 5), TestCase(9, 1), TestCase(13, 3)]
    public void Attention_over_a_cache_matches_the_interpreter(int past, int tokens)
    {
        var r = Fresh();
        int heads = 6, kvHeads = 2, headDim = 20;
        int row = kvHeads * headDim;
        var reference = new KvCache();
        var cache = new KvCache();
        if (past > 0)
        {
            var (pk, pv) = (RandomFloats(r, past * row), RandomFloats(r, past * row));
            reference.Layer(0).Append(pk, pv, past, row, headDim, 0);
            cache.Layer(0).Append(pk, pv, past, row, headDim, 0);
        }
        var (q, k, v) = (RandomFloats(r, tokens * heads * headDim), RandomFloats(r, tokens * row), RandomFloats(r, tokens * row));
        var expected = AttentionKernel.Run(q, k, v, reference, 0, tokens, heads, kvHeads, headDim, 1 / Math.Sqrt(headDim), 0);
        cache.Layer(0).Append(k, v, tokens, row, headDim, 0);
        var (keys, values) = cache.Rows(cache.Layer(0));
        var y = new float[expected.Length];
        using var h = new KernelHarness(new AttentionSpec(heads, kvHeads, headDim, 1 / Math.Sqrt(headDim)));
        h.Run([h.Pin(q), h.Pin(keys.ToArray()), h.Pin(values.ToArray()), h.Pin(y), past, tokens], tokens * heads);
        AssertClose(y, expected, 1e-5);
    }

    [Test]
    public void Embedding_copies_the_rows_of_the_ids()
    {
        var r = Fresh();
        int vocab = 50, d = 19;
        var table = RandomFloats(r, vocab * d);
        var ids = new[] { 3, 49, 0, 3, 17 };
        var y = new float[ids.Length * d];
        using var h = new KernelHarness(new EmbeddingSpec(d));
        h.Run([h.Pin(ids), h.Pin(table), h.Pin(y)], ids.Length);
        Assert.That(y, Is.EqualTo(ShapeKernels.Gather(table, vocab, d, ids, "nn.embedding")));
    }
}
