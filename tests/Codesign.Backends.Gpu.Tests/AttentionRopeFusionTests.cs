using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// attention(rope(q), rope(k), v), as every LLaMA layer has it: the gpu folds both ropes into the attention kernels (q
/// turned as it is read, k as it is appended), so they never run, and the result is still the interpreter's, for
/// prefill and decode, GQA and a quantized cache, at positions far from zero.
/// </summary>
public class AttentionRopeFusionTests
{
    private static (Graph Graph, Value KRope) Layer(int heads, int kvHeads, int headDim, long kvBits, bool keyRopeIsAnOutput = false)
    {
        var b = new GraphBuilder("roped_attention");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", heads, headDim));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", kvHeads, headDim));
        var v = b.Input("v", TensorType.Of(DType.F32, "seq", kvHeads, headDim));
        var pos = b.Input("pos", TensorType.Of(DType.I32, "seq"));
        var qRope = b.Apply(new RopeOp(10000.0), "q_rope", q, pos);
        var kRope = b.Apply(new RopeOp(10000.0), "k_rope", k, pos);
        var y = b.Apply(new AttentionOp(0, 1 / Math.Sqrt(headDim), kvBits), "y", qRope, kRope, v);
        return (keyRopeIsAnOutput ? b.Return(y, kRope) : b.Return(y), kRope);
    }

    private static Dictionary<string, HostTensor> Step(Random r, int tokens, int first, int heads, int kvHeads, int headDim) => new()
    {
        ["q"] = HostTensor.F32([tokens, heads, headDim], RandomFloats(r, (long)tokens * heads * headDim, 4)),
        ["k"] = HostTensor.F32([tokens, kvHeads, headDim], RandomFloats(r, (long)tokens * kvHeads * headDim, 4)),
        ["v"] = HostTensor.F32([tokens, kvHeads, headDim], RandomFloats(r, (long)tokens * kvHeads * headDim, 4)),
        ["pos"] = HostTensor.I32([tokens], [.. Enumerable.Range(first, tokens)]),
    };

    [TestCase(4, 2, 16, 0L, 0)]
    [TestCase(6, 3, 34, 8L, 1000)]
    [TestCase(2, 2, 128, 0L, 37)]
    [TestCase(4, 1, 8, 4L, 5)]
    public void Folded_ropes_give_the_interpreters_attention_over_prefill_and_decode(int heads, int kvHeads, int headDim, long kvBits, int firstPosition)
    {
        var r = Fresh();
        var (graph, _) = Layer(heads, kvHeads, headDim, kvBits);
        using var program = GpuProgram.Compile(graph, new LayeredWeightStore(), Device);
        Assert.That(program.Fused, Is.EquivalentTo(new[] { "q_rope", "k_rope" }));
        using var cache = program.NewCache();
        var interpreter = new ReferenceInterpreter(graph, new LayeredWeightStore());
        var referenceCache = new KvCache();
        int position = firstPosition;
        foreach (int tokens in new[] { 9, 1, 1, 40, 1 })
        {
            var inputs = Step(r, tokens, position, heads, kvHeads, headDim);
            position += tokens;
            var gpu = program.Run(inputs, cache)["y"].Floats.ToArray();
            Assert.That(program.StepsRun, Is.EqualTo(1), "the ropes ran no step of their own");
            AssertClose(gpu, interpreter.Run(inputs, referenceCache)["y"].Floats.ToArray(), 2e-5);
        }
    }

    [Test]
    public void A_rope_read_elsewhere_is_not_folded_and_both_still_match()
    {
        var r = Fresh();
        var (graph, _) = Layer(4, 2, 16, 0L, keyRopeIsAnOutput: true);
        using var program = GpuProgram.Compile(graph, new LayeredWeightStore(), Device);
        Assert.That(program.Fused, Is.Empty);
        using var cache = program.NewCache();
        var interpreter = new ReferenceInterpreter(graph, new LayeredWeightStore());
        var referenceCache = new KvCache();
        foreach (var (tokens, first) in new[] { (6, 3), (1, 9) })
        {
            var inputs = Step(r, tokens, first, 4, 2, 16);
            var gpu = program.Run(inputs, cache);
            var reference = interpreter.Run(inputs, referenceCache);
            Assert.That(program.StepsRun, Is.EqualTo(3));
            foreach (var output in new[] { "y", "k_rope" })
                AssertClose(gpu[output].Floats.ToArray(), reference[output].Floats.ToArray(), 2e-5);
        }
    }
}
