using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>rms_norm, softmax, rope, elementwise ops, the silu·mul fusion, embedding and transpose against the interpreter.</summary>
public class OpKernelTests
{
    private static Dictionary<string, HostTensor> X(int[] shape, float[] x) => new() { ["x"] = HostTensor.F32(shape, x) };

    [TestCase(1, 256), TestCase(5, 77), TestCase(3, 4099)]
    public void Rms_norm_matches_the_interpreter(int rows, int d)
    {
        var r = Fresh();
        var b = new GraphBuilder("norm");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", d));
        var g = b.Return(b.Apply(new RmsNormOp(1e-5), "y", x, b.Weight("w", TensorType.Of(DType.F32, d))));
        var store = new LayeredWeightStore();
        store.Set(WeightTensor.FromFloats("w", DType.F32, [d], RandomFloats(r, d)));
        var (gpu, reference) = Run(g, store, X([rows, d], RandomFloats(r, (long)rows * d, 6)));
        AssertClose(gpu, reference, 1e-6);
    }

    [TestCase(1, 10), TestCase(7, 333)]
    public void Softmax_matches_the_interpreter(int rows, int d)
    {
        var r = Fresh();
        var b = new GraphBuilder("softmax");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", d));
        var g = b.Return(b.Apply(new SoftmaxOp(), "y", x));
        var (gpu, reference) = Run(g, new LayeredWeightStore(), X([rows, d], RandomFloats(r, (long)rows * d, 20)));
        AssertClose(gpu, reference, 1e-6);
    }

    [TestCase(10000.0, 3, 0), TestCase(500000.0, 2, 4000)]
    public void Rope_matches_the_interpreter(double theta, int tokens, int firstPosition)
    {
        var r = Fresh();
        int heads = 3, headDim = 18;
        var b = new GraphBuilder("rope");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", heads, headDim));
        var pos = b.Input("pos", TensorType.Of(DType.I32, "seq"));
        var g = b.Return(b.Apply(new RopeOp(theta), "y", x, pos));
        var inputs = X([tokens, heads, headDim], RandomFloats(r, tokens * heads * headDim));
        inputs["pos"] = HostTensor.I32([tokens], [.. Enumerable.Range(firstPosition, tokens)]);
        var (gpu, reference) = Run(g, new LayeredWeightStore(), inputs);
        AssertClose(gpu, reference, 1e-5);
    }

    [Test]
    public void Add_mul_and_silu_match_the_interpreter()
    {
        var r = Fresh();
        int n = 1001;
        var b = new GraphBuilder("elementwise");
        var x = b.Input("x", TensorType.Of(DType.F32, n));
        var z = b.Input("z", TensorType.Of(DType.F32, n));
        var sum = b.Apply(new AddOp(), "sum", x, z);
        var prod = b.Apply(new MulOp(), "prod", sum, z);
        var g = b.Return(b.Apply(new SiluOp(), "y", prod));
        var inputs = X([n], RandomFloats(r, n, 8));
        inputs["z"] = HostTensor.F32([n], RandomFloats(r, n, 8));
        var (gpu, reference) = Run(g, new LayeredWeightStore(), inputs);
        AssertClose(gpu, reference, 1e-6);
    }

    [Test]
    public void Silu_times_up_runs_as_one_fused_kernel()
    {
        var r = Fresh();
        int n = 999;
        var b = new GraphBuilder("mlp");
        var gate = b.Input("x", TensorType.Of(DType.F32, n));
        var up = b.Input("up", TensorType.Of(DType.F32, n));
        var silu = b.Apply(new SiluOp(), "gate_silu", gate);
        var g = b.Return(b.Apply(new MulOp(), "y", up, silu));
        var store = new LayeredWeightStore();
        using (var program = GpuProgram.Compile(g, store, Device))
            Assert.That(program.Fused, Is.EqualTo(new[] { "gate_silu" }));
        var inputs = X([n], RandomFloats(r, n, 8));
        inputs["up"] = HostTensor.F32([n], RandomFloats(r, n, 8));
        var (gpu, reference) = Run(g, store, inputs);
        AssertClose(gpu, reference, 1e-6);
    }

    [TestCase(new[] { 3, 5, 7 }, new[] { 2, 0, 1 }), TestCase(new[] { 2, 3, 4, 5 }, new[] { 3, 1, 0, 2 }), TestCase(new[] { 9, 4 }, new[] { 1, 0 })]
    public void Transpose_copies_exactly_what_the_interpreter_does(int[] shape, int[] perm)
    {
        var r = Fresh();
        var b = new GraphBuilder("transpose");
        var x = b.Input("x", TensorType.Of(DType.F32, [.. shape.Select(d => Dim.Of(d))]));
        var g = b.Return(b.Apply(new TransposeOp(perm), "y", x));
        var (gpu, reference) = Run(g, new LayeredWeightStore(), X(shape, RandomFloats(r, shape.Aggregate(1, (a, d) => a * d))));
        Assert.That(gpu, Is.EqualTo(reference));
    }

    private static (Graph Graph, LayeredWeightStore Store) EmbeddingGraph(Random r, int vocab, int d)
    {
        var b = new GraphBuilder("embed");
        var ids = b.Input("ids", TensorType.Of(DType.I32, "seq"));
        var g = b.Return(b.Apply(new EmbeddingOp(), "y", ids, b.Weight("table", TensorType.Of(DType.F16, vocab, d))));
        var store = new LayeredWeightStore();
        store.Set(WeightTensor.FromFloats("table", DType.F16, [vocab, d], RandomFloats(r, (long)vocab * d)));
        return (g, store);
    }

    [Test]
    public void Embedding_copies_the_rows_of_the_ids()
    {
        var (g, store) = EmbeddingGraph(Fresh(), 50, 19);
        var (gpu, reference) = Run(g, store, new() { ["ids"] = HostTensor.I32([4], [49, 0, 7, 7]) });
        Assert.That(gpu, Is.EqualTo(reference));
    }

    [Test]
    public void An_id_outside_the_table_is_refused_before_any_kernel_reads_it()
    {
        var (g, store) = EmbeddingGraph(Fresh(), 50, 19);
        using var program = GpuProgram.Compile(g, store, Device);
        using var cache = program.NewCache();
        Assert.That(() => program.Run(new Dictionary<string, HostTensor> { ["ids"] = HostTensor.I32([2], [3, 50]) }, cache),
            Throws.InstanceOf<CodesignException>().With.Message.Contains("token id 50").And.Message.Contains("50 rows"));
    }

    [Test]
    public void A_weight_in_a_form_no_kernel_reads_names_the_node()
    {
        var b = new GraphBuilder("bad");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 8));
        var w = b.Input("w", TensorType.Of(DType.F32, 4, 8));
        var g = b.Return(b.Apply(new MatMulOp(), "y", x, w));
        Assert.That(() => GpuProgram.Compile(g, new LayeredWeightStore(), Device),
            Throws.InstanceOf<CodesignException>().With.Message.Contains("%y = nn.matmul").And.Message.Contains("operand 1 must be a weight"));
    }
}
