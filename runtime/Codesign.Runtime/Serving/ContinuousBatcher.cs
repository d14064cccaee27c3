using System.Threading.Channels;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Serving;

/// <summary>
/// The iteration-level scheduler of <see cref="GenerationService"/> over an <see cref="IBatchedModel"/>: requests join
/// and leave the running batch between forward calls. Each call carries one token per decoding sequence and, in the
/// rest of the token budget, chunks of prompts still in prefill, so a long prompt neither stalls the decodes nor
/// waits for them to finish. A request is admitted, in arrival order, only when the KV pool can hold its whole
/// prompt plus max_tokens beside the running ones (so no running sequence is ever evicted); each sequence samples
/// with its own sampler, so a greedy request yields what it yields alone.
/// </summary>
internal sealed class ContinuousBatcher(IBatchedModel model, BatchingOptions options, KvBlockPool pool, int? eos)
{
    private sealed class Sequence(GenerationService.Job job, KvCache cache, int blocks)
    {
        public GenerationService.Job Job { get; } = job;
        public KvCache Cache { get; } = cache;
        public int Blocks { get; } = blocks;
        public Sampler Sampler { get; } = new(job.Request.Sampling);
        public int Position;
        public int Produced;
        public int LastToken = -1;
        public bool Decoding => Position >= Job.Request.Prompt.Count;
    }

    private readonly List<Sequence> _running = [];
    private readonly Queue<GenerationService.Job> _waiting = new();
    private int _reserved;
    private long _admitted;

    /// <summary>Blocks a request holds at most: its prompt and every token it may generate, in every layer.</summary>
    public int BlocksFor(GenerationRequest r) => pool.BlocksFor(r.Prompt.Count + r.MaxTokens, model.AttentionLayers);

    /// <summary>Serves until the queue is completed and every admitted request has finished.</summary>
    public async Task Run(ChannelReader<GenerationService.Job> queue)
    {
        try
        {
            while (true)
            {
                while (queue.TryRead(out var job)) _waiting.Enqueue(job);
                if (_running.Count == 0 && _waiting.Count == 0)
                {
                    if (!await queue.WaitToReadAsync().ConfigureAwait(false)) return;
                    continue;
                }
                Admit();
                DropCancelled();
                if (_running.Count > 0) Step();
            }
        }
        catch (Exception e)
        {
            // A fault of the scheduler itself: no caller may be left waiting for tokens that will not come.
            Abandon(e);
            while (queue.TryRead(out var job)) job.Output.Writer.TryComplete(e);
            throw;
        }
    }

    private void Admit()
    {
        while (_waiting.Count > 0 && _running.Count < options.MaxSequences)
        {
            var job = _waiting.Peek();
            if (job.Cancellation.IsCancellationRequested)
            {
                _waiting.Dequeue();
                job.Output.Writer.TryComplete(new OperationCanceledException(job.Cancellation));
                continue;
            }
            int need = BlocksFor(job.Request);
            if (_reserved + need > pool.Blocks) break; // first come, first served: later requests do not overtake
            _waiting.Dequeue();
            _reserved += need;
            _running.Add(new Sequence(job, new KvCache(pool, $"request {++_admitted}"), need));
        }
    }

    private void DropCancelled()
    {
        foreach (var s in _running.Where(s => s.Job.Cancellation.IsCancellationRequested).ToList())
            Finish(s, new OperationCanceledException(s.Job.Cancellation));
    }

    private void Step()
    {
        var slices = new List<(Sequence Seq, BatchSlice Slice)>();
        int budget = options.ChunkTokens;
        foreach (var s in _running.Where(s => s.Decoding))
        {
            slices.Add((s, new BatchSlice(s.Cache, s.Position, [s.LastToken])));
            budget--;
        }
        foreach (var s in _running.Where(s => !s.Decoding))
        {
            if (budget <= 0 && slices.Count > 0) break;
            int take = Math.Min(s.Job.Request.Prompt.Count - s.Position, Math.Max(budget, 1));
            slices.Add((s, new BatchSlice(s.Cache, s.Position, s.Job.Request.Prompt.Skip(s.Position).Take(take).ToArray())));
            budget -= take;
        }

        float[] logits;
        try
        {
            logits = model.Forward(slices.Select(x => x.Slice).ToArray());
        }
        catch (Exception e)
        {
            foreach (var (s, _) in slices) Finish(s, e);
            return;
        }

        int row = 0, vocab = model.VocabSize;
        foreach (var (s, slice) in slices)
        {
            row += slice.Tokens.Length;
            s.Position += slice.Tokens.Length;
            if (!s.Decoding) continue; // prefill goes on in the next call
            var r = s.Job.Request;
            int token = s.Sampler.Next(logits.AsSpan((row - 1) * vocab, vocab));
            s.Produced++;
            s.LastToken = token;
            int? stop = r.StopAtEos ? eos : null;
            FinishReason? finish = token == stop ? FinishReason.Stop
                : s.Produced >= r.MaxTokens || s.Position >= model.MaxPositions ? FinishReason.Length : null;
            s.Job.Output.Writer.TryWrite(new GeneratedToken(token, finish));
            if (finish is not null) Finish(s, null);
        }
    }

    private void Finish(Sequence s, Exception? error)
    {
        // The blocks go back before the caller sees the end of its stream, so a caller that has read the
        // last token finds the pool as the request left it.
        s.Cache.Clear();
        _reserved -= s.Blocks;
        _running.Remove(s);
        s.Job.Output.Writer.TryComplete(error);
    }

    /// <summary>Ends every queued and running request (the service is shutting down or its worker failed).</summary>
    public void Abandon(Exception? error)
    {
        foreach (var s in _running.ToList()) Finish(s, error);
        while (_waiting.TryDequeue(out var job)) job.Output.Writer.TryComplete(error);
    }
}
