using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Semantics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;
using Codesign.Runtime.Serving;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>Batched forward calls, the paged KV cache and continuous batching, against each sequence run alone.</summary>
public class ContinuousBatchingTests
{
    private static int[] Prompt(int i) => TinyLlamaFixture.Ids($"prompt{i % 4}.ids");

    private static float[] Alone(ReferenceInterpreter interpreter, KvCache cache, int[] tokens, int position) =>
        interpreter.Run(new Dictionary<string, HostTensor>
        {
            [LlamaGraphBuilder.TokensInput] = HostTensor.I32([tokens.Length], tokens),
            [LlamaGraphBuilder.PositionsInput] = HostTensor.I32([tokens.Length], Enumerable.Range(position, tokens.Length).ToArray()),
        }, cache)[LlamaGraphBuilder.LogitsOutput].Floats.ToArray();

    [Test]
    public void A_batched_call_gives_each_sequence_its_own_logits_bit_for_bit_on_the_interpreter()
    {
        var m = TinyLlamaFixture.Model;
        using var batched = BatchedModels.Open("interpreter", m.Graph, m.Weights);
        var caches = new[] { new KvCache(), new KvCache(), new KvCache() };
        var alone = new[] { new KvCache(), new KvCache(), new KvCache() };
        // Step 1: three prefills of different lengths; step 2: two decodes beside a prompt chunk.
        var first = new[] { Prompt(0), Prompt(1)[..5], Prompt(2) };
        var logits = batched.Forward(first.Select((t, i) => new BatchSlice(caches[i], 0, t)).ToArray());
        var expected = first.SelectMany((t, i) => Alone(TinyLlamaFixture.Interpreter, alone[i], t, 0)).ToArray();
        Assert.That(logits, Is.EqualTo(expected));
        var second = new[] { new[] { 7 }, Prompt(1)[5..], new[] { 9 } };
        var positions = new[] { first[0].Length, 5, first[2].Length };
        logits = batched.Forward(second.Select((t, i) => new BatchSlice(caches[i], positions[i], t)).ToArray());
        expected = second.SelectMany((t, i) => Alone(TinyLlamaFixture.Interpreter, alone[i], t, positions[i])).ToArray();
        Assert.That(logits, Is.EqualTo(expected));
    }

    [Test]
    public void A_batched_call_on_the_cpu_matches_each_sequence_alone()
    {
        var m = TinyLlamaFixture.Model;
        using var batched = BatchedModels.Open("cpu", m.Graph, m.Weights, threads: 2);
        var caches = new[] { new KvCache(), new KvCache() };
        var prompts = new[] { Prompt(3), Prompt(0)[..3] };
        var logits = batched.Forward(prompts.Select((t, i) => new BatchSlice(caches[i], 0, t)).ToArray());
        var expected = prompts.SelectMany(t => Alone(TinyLlamaFixture.Interpreter, new KvCache(), t, 0)).ToArray();
        LogitAssertions.AssertLogitsClose(logits, expected);
    }

    [TestCase("w4g128-gptq", 0), TestCase("w4a8-kv4-gptq", 4), TestCase("w4a8-kv4-gptq", 0)]
    public void A_paged_cache_gives_the_contiguous_caches_logits_bit_for_bit(string recipe, int poolBits)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        var store = RecipeRunner.Apply(m, TestPaths.ExampleRecipe(recipe));
        var interpreter = new ReferenceInterpreter(m.Graph, store);
        var pool = new KvBlockPool(64, 5, poolBits);
        var paged = new KvCache(pool);
        var contiguous = new KvCache();
        var prompt = Prompt(2);
        Assert.That(Alone(interpreter, paged, prompt, 0), Is.EqualTo(Alone(interpreter, contiguous, prompt, 0)));
        for (int t = 0; t < 7; t++)
            Assert.That(Alone(interpreter, paged, [t + 3], prompt.Length + t), Is.EqualTo(Alone(interpreter, contiguous, [t + 3], prompt.Length + t)), $"decode {t}");
        int layers = m.Graph.Nodes.Count(n => n.Op is IR.Ops.AttentionOp);
        Assert.That(paged.BlockCount, Is.EqualTo(pool.BlocksFor(prompt.Length + 7, layers)).And.EqualTo(pool.UsedBlocks));
        paged.Clear();
        Assert.That(pool.UsedBlocks, Is.Zero, "clearing a sequence gives its blocks back");
    }

    [Test]
    public void A_full_pool_says_which_limit_was_hit()
    {
        var m = TinyLlamaFixture.Model;
        var pool = new KvBlockPool(6, 4);
        var e = Assert.Throws<KvCacheExhaustedException>(() => Alone(TinyLlamaFixture.Interpreter, new KvCache(pool, "request 7"), Prompt(0), 0))!;
        Assert.That(e.Message, Does.Contain("request 7").And.Contain("all 6 blocks of 4 tokens are held"));
        var quantized = new KvBlockPool(1, 16, 8);
        var mismatch = Assert.Throws<IR.Diagnostics.CodesignException>(() => Alone(TinyLlamaFixture.Interpreter, new KvCache(quantized), [1], 0))!;
        Assert.That(mismatch.Message, Does.Contain("stores 8-bit rows but the attention op caches f32 rows"));
    }

    [Test]
    public void Quantized_blocks_store_a_quarter_and_an_eighth_of_the_f32_bytes_plus_scales()
    {
        int rowSize = 4 * 64, headDim = 64;
        long f32 = new KvBlockPool(1, 16).BlockBytes(rowSize, headDim);
        Assert.That(new KvBlockPool(1, 16, 8).BlockBytes(rowSize, headDim), Is.EqualTo(f32 / 4 + 2 * 16 * 4 * 4));
        Assert.That(new KvBlockPool(1, 16, 4).BlockBytes(rowSize, headDim), Is.EqualTo(f32 / 8 + 2 * 16 * 4 * 4));
    }

    [Test]
    public async Task Sixteen_concurrent_requests_batched_with_chunked_prefill_and_a_tight_pool_each_get_their_tokens_alone()
    {
        var m = TinyLlamaFixture.Model;
        using var batched = BatchedModels.Open("cpu", m.Graph, m.Weights, threads: 2);
        using var alone = (CpuSession)DeviceSessions.Open("cpu", m.Graph, m.Weights, threads: 2);
        int layers = batched.AttentionLayers;
        // Room for about five requests at a time: the rest wait their turn, in order.
        var options = new BatchingOptions { MaxSequences = 8, ChunkTokens = 8, KvBlockTokens = 8, KvBlocks = 5 * layers * 5 };
        await using var service = new GenerationService(batched, eosTokenId: null, options);
        var requests = Enumerable.Range(0, 16).Select(i => new GenerationRequest(Prompt(i)[..Math.Max(2, Prompt(i).Length - i % 5)], 6 + i % 7,
            i % 3 == 0 ? new SamplingOptions { Greedy = false, Temperature = 0.8, TopK = 20, Seed = i } : SamplingOptions.GreedyDecoding, StopAtEos: false)).ToArray();
        var results = await Task.WhenAll(requests.Select(async r =>
        {
            var tokens = new List<GeneratedToken>();
            await foreach (var t in service.GenerateAsync(r)) tokens.Add(t);
            return tokens;
        }));
        for (int i = 0; i < requests.Length; i++)
        {
            var expected = TextGenerator.Generate(alone, requests[i].Prompt, requests[i].MaxTokens, requests[i].Sampling);
            Assert.That(results[i].Select(t => t.Id), Is.EqualTo(expected), $"request {i}");
            Assert.That(results[i][^1].Finish, Is.EqualTo(FinishReason.Length));
            Assert.That(results[i].SkipLast(1).Select(t => t.Finish), Has.All.Null);
        }
        Assert.That(service.Pool!.UsedBlocks, Is.Zero, "every finished request gave its blocks back");
    }

    [Test]
    public async Task A_request_larger_than_the_pool_is_refused_and_a_cancelled_one_frees_its_blocks()
    {
        var m = TinyLlamaFixture.Model;
        using var batched = BatchedModels.Open("interpreter", m.Graph, m.Weights);
        await using var service = new GenerationService(batched, null, new BatchingOptions { KvBlocks = 8, KvBlockTokens = 4 });
        var tooLong = new GenerationRequest(Prompt(0), 30, SamplingOptions.GreedyDecoding);
        var e = (await Assert.ThrowsAsync<KvCacheExhaustedException>(async () => { await foreach (var _ in service.GenerateAsync(tooLong)) { } }))!;
        Assert.That(e.Message, Does.Contain("the whole pool has 8"));

        await using var roomy = new GenerationService(batched, null, new BatchingOptions { KvBlockTokens = 4 });
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.CatchAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in roomy.GenerateAsync(new GenerationRequest(Prompt(1), 50, SamplingOptions.GreedyDecoding, false), cancel.Token))
                if (++seen == 2) cancel.Cancel();
        });
        var after = new List<int>();
        await foreach (var t in roomy.GenerateAsync(new GenerationRequest(Prompt(2), 3, SamplingOptions.GreedyDecoding, false))) after.Add(t.Id);
        Assert.That(after, Is.EqualTo(TinyLlamaFixture.Ids("prompt2.greedy").Take(3)));
        Assert.That(roomy.Pool!.UsedBlocks, Is.Zero, "the cancelled request's blocks were given back");
    }
}
