using System.Net;
using System.Text;
using System.Text.Json;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Serving;
using Codesign.Runtime.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Codesign.Cli.Serving;

/// <summary>
/// An OpenAI-compatible HTTP server on localhost over a <see cref="GenerationService"/>: POST /v1/completions and
/// /v1/chat/completions (JSON, or server-sent events with "stream": true), GET /v1/models. A malformed request gets a
/// 400 with {"error": {"message", "type"}} naming the field; generation errors after streaming began end the stream
/// with an error event.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    private const int MaxBodyBytes = 1 << 20;
    private readonly WebApplication _app;
    private readonly GenerationService _service;
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly string _model;

    private OpenAiServer(WebApplication app, GenerationService service, SentencePieceTokenizer tokenizer, string model)
    {
        _app = app;
        _service = service;
        _tokenizer = tokenizer;
        _model = model;
    }

    public Uri Address { get; private set; } = null!;

    /// <param name="port">0 picks a free port (see <see cref="Address"/>).</param>
    public static async Task<OpenAiServer> StartAsync(GenerationService service, SentencePieceTokenizer tokenizer, string model, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, port);
            o.Limits.MaxRequestBodySize = MaxBodyBytes;
        });
        var app = builder.Build();
        var server = new OpenAiServer(app, service, tokenizer, model);
        app.MapPost("/v1/completions", context => server.Handle(context, chat: false));
        app.MapPost("/v1/chat/completions", context => server.Handle(context, chat: true));
        app.MapGet("/v1/models", context => context.Response.WriteAsJsonAsync(new { @object = "list", data = new[] { new { id = model, @object = "model", owned_by = "codesign" } } }));
        await app.StartAsync().ConfigureAwait(false);
        server.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task Handle(HttpContext context, bool chat)
    {
        ParsedRequest request;
        IAsyncEnumerator<GeneratedToken> tokens;
        bool first;
        try
        {
            request = await ParsedRequest.Read(context.Request, chat, _tokenizer, _service.MaxPositions).ConfigureAwait(false);
            tokens = _service.GenerateAsync(request.Generation, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
            // The first step validates and waits for the request's turn: errors still get a status code.
            first = await tokens.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is CodesignException or ArgumentException or JsonException or BadHttpRequestException)
        {
            context.Response.StatusCode = e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { error = new { message = e.Message, type = "invalid_request_error" } }).ConfigureAwait(false);
            return;
        }
        await using var _ = tokens.ConfigureAwait(false);
        string id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N")[..24];
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var text = new IncrementalDetokenizer(_tokenizer);
        if (request.Stream)
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            try
            {
                for (bool more = first; more; more = await tokens.MoveNextAsync().ConfigureAwait(false))
                {
                    var token = tokens.Current;
                    string delta = text.Push(token.Id) + (token.Finish is not null ? text.Flush() : "");
                    if (delta.Length == 0 && token.Finish is null) continue;
                    await Event(context, Chunk(id, created, chat, delta, token.Finish)).ConfigureAwait(false);
                }
                await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await Event(context, new { error = new { message = e.Message, type = "server_error" } }).ConfigureAwait(false);
            }
            return;
        }
        var ids = new List<int>();
        FinishReason? finish = null;
        for (bool more = first; more; more = await tokens.MoveNextAsync().ConfigureAwait(false))
        {
            ids.Add(tokens.Current.Id);
            finish = tokens.Current.Finish ?? finish;
        }
        string content = _tokenizer.Decode(ids);
        var usage = new { prompt_tokens = request.Generation.Prompt.Count, completion_tokens = ids.Count, total_tokens = request.Generation.Prompt.Count + ids.Count };
        object choice = chat
            ? new { index = 0, message = new { role = "assistant", content }, finish_reason = Reason(finish) }
            : new { index = 0, text = content, finish_reason = Reason(finish) };
        await context.Response.WriteAsJsonAsync(new { id, @object = chat ? "chat.completion" : "text_completion", created, model = _model, choices = new[] { choice }, usage }).ConfigureAwait(false);
    }

    private object Chunk(string id, long created, bool chat, string delta, FinishReason? finish) => chat
        ? new { id, @object = "chat.completion.chunk", created, model = _model, choices = new[] { new { index = 0, delta = new { content = delta }, finish_reason = Reason(finish) } } }
        : new { id, @object = "text_completion", created, model = _model, choices = new[] { new { index = 0, text = delta, finish_reason = Reason(finish) } } };

    private static string? Reason(FinishReason? finish) => finish switch { FinishReason.Stop => "stop", FinishReason.Length => "length", _ => null };

    private static async Task Event(HttpContext context, object payload)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(payload) + "\n\n", Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
