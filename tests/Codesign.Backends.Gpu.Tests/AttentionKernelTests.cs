using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// nn.attention over the device KV cache, step after step (prefill through the flash tiling, decode through split-K),
/// against the interpreter with its own cache: GQA, caches longer than one decode slice, quantized KV.
/// </summary>
public class AttentionKernelTests
{
    [TestCase(8, 2, 16, 0L, new[] { 5, 1, 1, 3, 1 })]
    [TestCase(4, 4, 32, 0L, new[] { 1, 1, 1 })]
    [TestCase(6, 3, 8, 0L, new[] { 300, 1, 1, 40, 1 })]
    [TestCase(4, 2, 16, 8L, new[] { 7, 1, 2, 1 })]
    [TestCase(4, 1, 16, 4L, new[] { 9, 1, 1 })]
    // LLaMA-7B's heads: the tiling that fits CUDA's 48 KiB of launch shared memory, over more keys than one tile.
    [TestCase(2, 2, 128, 0L, new[] { 45, 1, 6, 1 })]
    [TestCase(3, 1, 80, 0L, new[] { 7, 1, 33, 1 })]
    public void Attention_steps_match_the_interpreter(int heads, int kvHeads, int headDim, long kvBits, int[] steps) =>
        RunSteps(Device, heads, kvHeads, headDim, kvBits, steps);

    /// <summary>
    /// In CUDA's group shape (8 warps of 32), where decode splits its value pass into parts and prefill tiles 8 queries
    /// a group (the shared device's groups are 16 threads).
    /// </summary>
    [TestCase(4, 2, 64, 0L, new[] { 20, 1, 1 })]
    [TestCase(2, 1, 128, 8L, new[] { 13, 1, 5, 1 })]
    public void Attention_in_cuda_sized_groups_matches_the_interpreter(int heads, int kvHeads, int headDim, long kvBits, int[] steps)
    {
        using var device = GpuDevice.OpenCpu(32, 8, Environment.ProcessorCount);
        RunSteps(device, heads, kvHeads, headDim, kvBits, steps);
    }

    private static void RunSteps(GpuDevice device, int heads, int kvHeads, int headDim, long kvBits, int[] steps)
    {
        var r = Fresh();
        var b = new GraphBuilder("attention");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", heads, headDim));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", kvHeads, headDim));
        var v = b.Input("v", TensorType.Of(DType.F32, "seq", kvHeads, headDim));
        var g = b.Return(b.Apply(new AttentionOp(0, 1 / Math.Sqrt(headDim), kvBits), "y", q, k, v));
        var store = new LayeredWeightStore();
        using var program = GpuProgram.Compile(g, store, device);
        using var cache = program.NewCache();
        var interpreter = new ReferenceInterpreter(g, store);
        var referenceCache = new KvCache();
        foreach (int tokens in steps)
        {
            var inputs = new Dictionary<string, HostTensor>
            {
                ["q"] = HostTensor.F32([tokens, heads, headDim], RandomFloats(r, (long)tokens * heads * headDim, 4)),
                ["k"] = HostTensor.F32([tokens, kvHeads, headDim], RandomFloats(r, (long)tokens * kvHeads * headDim, 4)),
                ["v"] = HostTensor.F32([tokens, kvHeads, headDim], RandomFloats(r, (long)tokens * kvHeads * headDim, 4)),
            };
            var gpu = program.Run(inputs, cache)["y"].Floats.ToArray();
            var reference = interpreter.Run(inputs, referenceCache)["y"].Floats.ToArray();
            AssertClose(gpu, reference, 2e-5);
        }
        Assert.That(cache.Length(0), Is.EqualTo(steps.Sum()));
    }

    [TestCase(4096, "prefill")]
    [TestCase(3000, "decode")]
    public void Heads_too_wide_for_a_groups_shared_memory_are_refused_at_compile_naming_the_node(int headDim, string kernel)
    {
        var b = new GraphBuilder("attention");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", 1, headDim));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", 1, headDim));
        var v = b.Input("v", TensorType.Of(DType.F32, "seq", 1, headDim));
        var g = b.Return(b.Apply(new AttentionOp(0, 0.1), "y", q, k, v));
        var e = Assert.Throws<CodesignException>(() => GpuProgram.Compile(g, new LayeredWeightStore(), Device).Dispose());
        Assert.That(e!.Message, Does.Contain("%y = nn.attention").And.Contain($"{headDim} dims").And.Contain($"{kernel} attention").And.Contain("shared memory"));
    }

    [Test]
    public void Integer_attention_is_refused_at_compile_naming_the_node()
    {
        var b = new GraphBuilder("attention");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", 2, 16));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", 2, 16));
        var v = b.Input("v", TensorType.Of(DType.F32, "seq", 2, 16));
        var g = b.Return(b.Apply(new AttentionOp(0, 0.25, kvBits: 8, actBits: 8), "y", q, k, v));
        var e = Assert.Throws<CodesignException>(() => GpuProgram.Compile(g, new LayeredWeightStore(), Device).Dispose());
        Assert.That(e!.Message, Does.Contain("%y = nn.attention").And.Contain("integer attention (act_bits = 8)"));
    }

    [Test]
    public void Clearing_the_cache_starts_a_new_sequence()
    {
        var r = Fresh();
        int heads = 2, headDim = 8;
        var b = new GraphBuilder("attention");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", heads, headDim));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", heads, headDim));
        var v = b.Input("v", TensorType.Of(DType.F32, "seq", heads, headDim));
        var g = b.Return(b.Apply(new AttentionOp(3, 0.3), "y", q, k, v));
        using var program = GpuProgram.Compile(g, new LayeredWeightStore(), Device);
        using var cache = program.NewCache();
        var inputs = new Dictionary<string, HostTensor>
        {
            ["q"] = HostTensor.F32([2, heads, headDim], RandomFloats(r, 2 * heads * headDim)),
            ["k"] = HostTensor.F32([2, heads, headDim], RandomFloats(r, 2 * heads * headDim)),
            ["v"] = HostTensor.F32([2, heads, headDim], RandomFloats(r, 2 * heads * headDim)),
        };
        var first = program.Run(inputs, cache)["y"].Floats.ToArray();
        program.Run(inputs, cache);
        cache.Clear();
        Assert.That(program.Run(inputs, cache)["y"].Floats.ToArray(), Is.EqualTo(first));
    }
}
