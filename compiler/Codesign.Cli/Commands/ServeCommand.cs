using System.CommandLine;
using Codesign.Cli.Serving;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Serving;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign serve MODEL|ARTIFACT [--port 8000]</c>: an OpenAI-compatible server on localhost until interrupted.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0: any free port).", DefaultValueFactory = _ => 8000 };
        var device = ModelArguments.Device();
        var placement = ModelArguments.Placement();
        var threads = ModelArguments.Threads();
        var lut = ModelArguments.Lut();
        var defaults = new BatchingOptions();
        var maxBatch = new Option<int>("--max-batch") { Description = "Requests run together at most (continuous batching on the interpreter and cpu; the gpu and placements serve one at a time).", DefaultValueFactory = _ => defaults.MaxSequences };
        var chunk = new Option<int>("--chunk-tokens") { Description = "Tokens per forward call: one per decoding request, the rest prompt chunks of requests in prefill.", DefaultValueFactory = _ => defaults.ChunkTokens };
        var kvBlocks = new Option<int>("--kv-blocks") { Description = "Blocks in the paged KV cache (0: enough for --max-batch full contexts); requests wait until their prompt plus max_tokens fit.", DefaultValueFactory = _ => 0 };
        var kvBlockTokens = new Option<int>("--kv-block-tokens") { Description = "Tokens per KV block.", DefaultValueFactory = _ => defaults.KvBlockTokens };
        var command = new Command("serve", "Serve /v1/completions and /v1/chat/completions (OpenAI-compatible, streaming with server-sent events) on localhost.")
            { model, port, device, placement, threads, lut, maxBatch, chunk, kvBlocks, kvBlockTokens };
        command.SetAction(parse =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new CodesignException($"--port must be 0..65535, got {p}");
            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            var tokenizer = source.Tokenizer();
            var options = new BatchingOptions
            {
                MaxSequences = parse.GetValue(maxBatch), ChunkTokens = parse.GetValue(chunk), KvBlocks = parse.GetValue(kvBlocks), KvBlockTokens = parse.GetValue(kvBlockTokens),
            };
            foreach (var (name, value, least) in new[] { ("--max-batch", options.MaxSequences, 1), ("--chunk-tokens", options.ChunkTokens, 1), ("--kv-blocks", options.KvBlocks, 0), ("--kv-block-tokens", options.KvBlockTokens, 1) })
                if (value < least) throw new CodesignException($"{name} must be at least {least}, got {value}");
            var batched = source.BatchedModel(parse.GetValue(device), parse.GetValue(placement), parse.GetValue(threads), parse.GetValue(lut));
            var session = batched is null ? source.Session(parse.GetValue(device), parse.GetValue(placement), null, parse.GetValue(threads), parse.GetValue(lut)) : null;
            using var owner = (IDisposable?)batched ?? session as IDisposable;
            var service = batched is not null ? new GenerationService(batched, tokenizer.EosId, options) : new GenerationService(session!, tokenizer.EosId);
            var server = OpenAiServer.StartAsync(service, tokenizer, Path.GetFileName(Path.TrimEndingDirectorySeparator(source.Path)), p).GetAwaiter().GetResult();
            output.WriteLine($"serving {source.Path} on {server.Address} (POST /v1/completions, /v1/chat/completions; Ctrl+C stops); "
                + (service.Pool is { } pool ? $"continuous batching of up to {options.MaxSequences} requests, {options.ChunkTokens} tokens per call, KV cache of {pool.Blocks} blocks of {pool.BlockTokens} tokens" : "one request at a time"));
            output.Flush();
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            service.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }
}
