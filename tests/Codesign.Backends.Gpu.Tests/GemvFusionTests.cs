using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// The rms_norm before and the residual add after a word GEMV, folded into its launch in decode (and run as their own
/// kernels for prefill), against the interpreter: a LLaMA block's shape, h = x + W_o · rms_norm(x) beside W_q · rms_norm(x).
/// </summary>
public class GemvFusionTests
{
    private const int D = 203, N = 61;

    private static (Graph Graph, LayeredWeightStore Store) Block(Random r, QuantScheme scheme, QuantScheme second, bool residualAfter = false)
    {
        var b = new GraphBuilder("block");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", D));
        var gain = b.Weight("gain", TensorType.Of(DType.F32, D));
        var normed = b.Apply(new RmsNormOp(1e-5), "normed", x, gain);
        var wo = b.Weight("wo", TensorType.Of(DType.Quantized(scheme), D, D));
        var wq = b.Weight("wq", TensorType.Of(DType.Quantized(second), N, D));
        var o = b.Apply(new QMatMulOp(), "o", normed, wo);
        var q = b.Apply(new QMatMulOp(), "q", normed, wq);
        // A residual computed after the product cannot be added by its GEMV (it does not exist yet when the GEMV runs).
        var residual = residualAfter ? b.Apply(new MulOp(), "scaled", x, x) : x;
        var y = b.Apply(new AddOp(), "y", o, residual);
        var graph = b.Return(y, q);
        var store = new LayeredWeightStore();
        store.Set(WeightTensor.FromFloats("gain", DType.F32, [D], RandomFloats(r, D)));
        store.Set(PackedWeightCodec.Encode("wo", DType.Quantized(scheme), RandomMatrix(r, scheme, D, D)));
        store.Set(PackedWeightCodec.Encode("wq", DType.Quantized(second), RandomMatrix(r, second, N, D)));
        return (graph, store);
    }

    private static readonly QuantScheme W4 = QuantScheme.Create(4, 32, false, DType.F16), W8 = QuantScheme.Create(8, 0, true, DType.F16), W3 = QuantScheme.Create(3, 64, true, DType.F16);

    [TestCase(1), TestCase(3), TestCase(4), TestCase(9)]
    public void Decode_folds_the_norm_and_the_residual_into_the_gemvs_and_prefill_runs_them_apart(int tokens)
    {
        var r = Fresh();
        var (graph, store) = Block(r, W4, W8);
        using (var program = GpuProgram.Compile(graph, store, Device))
            Assert.That(program.FoldedIntoGemvs, Is.EquivalentTo(new[] { "normed", "y" }));
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([tokens, D], RandomFloats(r, (long)tokens * D, 3)) };
        foreach (var output in new[] { "y", "q" })
        {
            var (gpu, reference) = Run(graph, store, inputs, output);
            AssertClose(gpu, reference, 1e-5);
        }
    }

    [Test]
    public void A_norm_read_by_a_gemv_the_word_kernel_does_not_take_runs_as_its_own_kernel()
    {
        var r = Fresh();
        var (graph, store) = Block(r, W4, W3);
        using (var program = GpuProgram.Compile(graph, store, Device))
            Assert.That(program.FoldedIntoGemvs, Is.EqualTo(new[] { "y" }));
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([2, D], RandomFloats(r, 2L * D, 3)) };
        var (gpu, reference) = Run(graph, store, inputs, "q");
        AssertClose(gpu, reference, 1e-5);
    }

    [Test]
    public void A_residual_computed_after_the_product_is_added_by_its_own_kernel()
    {
        var r = Fresh();
        var (graph, store) = Block(r, W4, W8, residualAfter: true);
        using (var program = GpuProgram.Compile(graph, store, Device))
            Assert.That(program.FoldedIntoGemvs, Is.EqualTo(new[] { "normed" }));
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([1, D], RandomFloats(r, D, 3)) };
        var (gpu, reference) = Run(graph, store, inputs, "y");
        AssertClose(gpu, reference, 1e-5);
    }

    /// <summary>q, k, v, gate and up read one normed x: decode launches q with k and v, gate with up; W8 reads it alone.</summary>
    [TestCase(1, 3), TestCase(4, 3), TestCase(9, 7)]
    public void Sibling_gemvs_of_one_input_share_a_launch_in_decode(int tokens, int stepsRun)
    {
        var r = Fresh();
        var b = new GraphBuilder("siblings");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", D));
        var normed = b.Apply(new RmsNormOp(1e-5), "normed", x, b.Weight("gain", TensorType.Of(DType.F32, D)));
        var store = new LayeredWeightStore();
        store.Set(WeightTensor.FromFloats("gain", DType.F32, [D], RandomFloats(r, D)));
        var outputs = new List<Value>();
        foreach (var (name, rows, scheme) in new[] { ("q", 61, W4), ("k", 29, W4), ("v", 29, W4), ("gate", 45, W4), ("up", 45, W4), ("w8", 17, W8) })
        {
            store.Set(PackedWeightCodec.Encode("w_" + name, DType.Quantized(scheme), RandomMatrix(r, scheme, rows, D)));
            outputs.Add(b.Apply(new QMatMulOp(), name, normed, b.Weight("w_" + name, TensorType.Of(DType.Quantized(scheme), rows, D))));
        }
        var graph = b.Return([.. outputs]);
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([tokens, D], RandomFloats(r, (long)tokens * D, 3)) };
        using (var program = GpuProgram.Compile(graph, store, Device))
        {
            Assert.That(program.FoldedIntoGemvs, Is.EquivalentTo(new[] { "normed", "k", "v", "up" }));
            using var cache = program.NewCache();
            program.Run(inputs, cache);
            Assert.That(program.StepsRun, Is.EqualTo(stepsRun), "steps (launches) a forward call ran");
        }
        foreach (var output in new[] { "q", "k", "v", "gate", "up", "w8" })
        {
            var (gpu, reference) = Run(graph, store, inputs, output);
            AssertClose(gpu, reference, 1e-5);
        }
    }

    /// <summary>x → rms_norm → gate, up (n rows) → mul(silu(gate), up) → y, the LLaMA MLP before its down projection.</summary>
    private static (Graph Graph, LayeredWeightStore Store) GatedMlp(Random r, QuantScheme scheme, int n, bool upFirst)
    {
        var b = new GraphBuilder("mlp");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", D));
        var normed = b.Apply(new RmsNormOp(1e-5), "normed", x, b.Weight("gain", TensorType.Of(DType.F32, D)));
        Value Project(string name) => b.Apply(new QMatMulOp(), name, normed, b.Weight("w_" + name, TensorType.Of(DType.Quantized(scheme), n, D)));
        // Node order decides which of the pair leads the launch.
        Value gate, up;
        if (upFirst)
        {
            up = Project("up");
            gate = Project("gate");
        }
        else
        {
            gate = Project("gate");
            up = Project("up");
        }
        var silu = b.Apply(new SiluOp(), "gate_silu", gate);
        var graph = b.Return(b.Apply(new MulOp(), "y", upFirst ? up : silu, upFirst ? silu : up));
        var store = new LayeredWeightStore();
        store.Set(WeightTensor.FromFloats("gain", DType.F32, [D], RandomFloats(r, D)));
        foreach (var name in new[] { "gate", "up" })
            store.Set(PackedWeightCodec.Encode("w_" + name, DType.Quantized(scheme), RandomMatrix(r, scheme, n, D)));
        return (graph, store);
    }

    // Steps: gate (with up and the mul) in decode; gate, up and silu·mul, after the norm, in prefill.
    [TestCase(1, 61, false, 1), TestCase(4, 61, true, 1), TestCase(2, 46, false, 1), TestCase(7, 61, false, 4), TestCase(5, 45, true, 4)]
    public void A_gate_and_up_pair_computes_silu_gate_times_up_in_one_decode_launch(int tokens, int n, bool upFirst, int stepsRun)
    {
        var r = Fresh();
        var (graph, store) = GatedMlp(r, W4, n, upFirst);
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([tokens, D], RandomFloats(r, (long)tokens * D, 3)) };
        using (var program = GpuProgram.Compile(graph, store, Device))
        {
            Assert.That(program.FoldedIntoGemvs, Is.EquivalentTo(new[] { "normed", upFirst ? "gate" : "up", "y" }));
            using var cache = program.NewCache();
            program.Run(inputs, cache);
            Assert.That(program.StepsRun, Is.EqualTo(stepsRun), "steps (launches) a forward call ran");
        }
        var (gpu, reference) = Run(graph, store, inputs);
        AssertClose(gpu, reference, 1e-5);
    }

    [Test]
    public void A_gate_read_elsewhere_keeps_its_own_output_and_the_mul_its_kernel()
    {
        var r = Fresh();
        var b = new GraphBuilder("mlp");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", D));
        var gate = b.Apply(new QMatMulOp(), "gate", x, b.Weight("w_gate", TensorType.Of(DType.Quantized(W4), N, D)));
        var up = b.Apply(new QMatMulOp(), "up", x, b.Weight("w_up", TensorType.Of(DType.Quantized(W4), N, D)));
        var y = b.Apply(new MulOp(), "y", b.Apply(new SiluOp(), "gate_silu", gate), up);
        var graph = b.Return(y, gate);
        var store = new LayeredWeightStore();
        foreach (var name in new[] { "gate", "up" })
            store.Set(PackedWeightCodec.Encode("w_" + name, DType.Quantized(W4), RandomMatrix(r, W4, N, D)));
        var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([1, D], RandomFloats(r, D, 3)) };
        using (var program = GpuProgram.Compile(graph, store, Device))
            Assert.That(program.FoldedIntoGemvs, Is.EqualTo(new[] { "up" }));
        foreach (var output in new[] { "y", "gate" })
        {
            var (gpu, reference) = Run(graph, store, inputs, output);
            AssertClose(gpu, reference, 1e-5);
        }
    }
}
