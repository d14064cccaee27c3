using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Serving;

/// <summary>What to generate: prompt token ids, how many tokens at most, how to sample, and whether EOS ends it.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, int MaxTokens, SamplingOptions Sampling, bool StopAtEos = true);

/// <summary>Why a generation ended.</summary>
public enum FinishReason { Length, Stop }

/// <summary>One generated token, and on the last one why generation ended.</summary>
public readonly record struct GeneratedToken(int Id, FinishReason? Finish);

/// <summary>
/// The library API for serving: requests from any number of callers run on one session, one at a time in arrival
/// order, each streaming its tokens back as they are sampled. Cancelling a caller's token stops its generation at the
/// next token (a queued request that is cancelled never runs). A request's tokens do not depend on what else is
/// queued: each starts from a reset session, so greedy requests give exactly what they give alone.
/// </summary>
public sealed class GenerationService : IAsyncDisposable
{
    private readonly ICausalLmSession _session;
    private readonly int? _eos;
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    public GenerationService(ICausalLmSession session, int? eosTokenId)
    {
        _session = session;
        _eos = eosTokenId;
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public int MaxPositions => _session.MaxPositions;

    /// <summary>Streams the tokens of <paramref name="request"/> as they are generated.</summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        if (request.Prompt.Count == 0) throw new CodesignException("the prompt has no tokens");
        if (request.MaxTokens < 1) throw new CodesignException($"max_tokens must be at least 1, got {request.MaxTokens}");
        if (request.Prompt.Count + request.MaxTokens > _session.MaxPositions)
            throw new CodesignException($"the prompt ({request.Prompt.Count} tokens) plus max_tokens ({request.MaxTokens}) exceed the model's {_session.MaxPositions} positions");
        request.Sampling.Validate();
        var job = new Job(request, Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true }), cancellation);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(GenerationService));
        await foreach (var token in job.Output.Reader.ReadAllAsync(cancellation).ConfigureAwait(false))
            yield return token;
    }

    private async Task Work()
    {
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
                TextGenerator.Generate(_session, r.Prompt, r.MaxTokens, r.Sampling, eos, token =>
                {
                    // The same stopping rule as the token loop, known as the token appears: nothing waits for the next one.
                    produced++;
                    FinishReason? finish = token == eos ? FinishReason.Stop
                        : produced >= r.MaxTokens || _session.Position >= _session.MaxPositions ? FinishReason.Length : null;
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

    private sealed record Job(GenerationRequest Request, Channel<GeneratedToken> Output, CancellationToken Cancellation);
}
