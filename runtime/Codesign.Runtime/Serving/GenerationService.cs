using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Serving;

/// <summary>What to generate: prompt token ids, how many tokens at most, how to sample, and whether EOS ends it.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, int MaxTokens, SamplingOptions Sampling, bool StopAtEos = true);

/// <summary>Why a generation ended.</summary>
public enum FinishReason { Length, Stop }

/// <summary>One generated token, and on the last one why generation ended.</summary>
public readonly record struct GeneratedToken(int Id, FinishReason? Finish);

/// <summary>
/// The library API for serving: requests from any number of callers, each streaming its tokens back as they are
/// sampled. Over an <see cref="IBatchedModel"/> the requests run together with continuous batching and a paged KV
/// cache (<see cref="ContinuousBatcher"/>); over a plain session, one at a time in arrival order. Cancelling a
/// caller's token stops its generation at the next token (a queued request that is cancelled never runs). A request's
/// tokens do not depend on what else runs: each has its own cache and sampler, so greedy requests give what they give alone.
/// </summary>
public sealed class GenerationService : IAsyncDisposable
{
    private readonly ICausalLmSession? _session;
    private readonly ContinuousBatcher? _batcher;
    private readonly int? _eos;
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    /// <summary>One request at a time on <paramref name="session"/>.</summary>
    public GenerationService(ICausalLmSession session, int? eosTokenId)
    {
        _session = session;
        _eos = eosTokenId;
        MaxPositions = session.MaxPositions;
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Requests batched continuously on <paramref name="model"/>, their KV caches paged in a pool sized by <paramref name="options"/>.</summary>
    public GenerationService(IBatchedModel model, int? eosTokenId, BatchingOptions? options = null)
    {
        options ??= new BatchingOptions();
        options.Validate();
        _eos = eosTokenId;
        MaxPositions = model.MaxPositions;
        int fullContext = Math.Min(model.MaxPositions, 1 << 20);
        int blocks = options.KvBlocks > 0 ? options.KvBlocks
            : checked((fullContext + options.KvBlockTokens - 1) / options.KvBlockTokens * model.AttentionLayers * options.MaxSequences);
        Pool = new KvBlockPool(blocks, options.KvBlockTokens, model.KvBits);
        _batcher = new ContinuousBatcher(model, options, Pool, eosTokenId);
        _worker = Task.Factory.StartNew(() => _batcher.Run(_queue.Reader), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public int MaxPositions { get; }

    /// <summary>The paged KV cache of a batching service (null for one over a plain session).</summary>
    public KvBlockPool? Pool { get; }

    /// <summary>Streams the tokens of <paramref name="request"/> as they are generated.</summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        if (request.Prompt.Count == 0) throw new CodesignException("the prompt has no tokens");
        if (request.MaxTokens < 1) throw new CodesignException($"max_tokens must be at least 1, got {request.MaxTokens}");
        if (request.Prompt.Count + request.MaxTokens > MaxPositions)
            throw new CodesignException($"the prompt ({request.Prompt.Count} tokens) plus max_tokens ({request.MaxTokens}) exceed the model's {MaxPositions} positions");
        request.Sampling.Validate();
        if (_batcher is not null && _batcher.BlocksFor(request) is var need && need > Pool!.Blocks)
            throw new KvCacheExhaustedException($"the prompt ({request.Prompt.Count} tokens) plus max_tokens ({request.MaxTokens}) need {need} KV blocks of {Pool.BlockTokens} tokens over the model's layers; the whole pool has {Pool.Blocks}");
        var job = new Job(request, Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true }), cancellation);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(GenerationService));
        await foreach (var token in job.Output.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            yield return token;
    }

    private async Task Work()
    {
        var session = _session!;
        await foreach (var job in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (job.Cancellation.IsCancellationRequested)
            {
                job.Output.Writer.TryComplete(new OperationCanceledException(job.Cancellation));
                continue;
            }
            try
            {
                var r = job.Request;
                int? eos = r.StopAtEos ? _eos : null;
                int produced = 0;
                TextGenerator.Generate(session, r.Prompt, r.MaxTokens, r.Sampling, eos, token =>
                {
                    // The same stopping rule as the token loop, known as the token appears: nothing waits for the next one.
                    produced++;
                    FinishReason? finish = token == eos ? FinishReason.Stop
                        : produced >= r.MaxTokens || session.Position >= session.MaxPositions ? FinishReason.Length : null;
                    job.Output.Writer.TryWrite(new GeneratedToken(token, finish));
                }, job.Cancellation);
                job.Output.Writer.TryComplete();
            }
            catch (Exception e)
            {
                job.Output.Writer.TryComplete(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    internal sealed record Job(GenerationRequest Request, Channel<GeneratedToken> Output, CancellationToken Cancellation);
}
