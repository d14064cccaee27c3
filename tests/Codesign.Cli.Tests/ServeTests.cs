using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Codesign.Cli.Serving;
using Codesign.Compiler.Frontends;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Serving;
using Codesign.Runtime.Text;
using Codesign.Testing;

namespace Codesign.Cli.Tests;

/// <summary>The OpenAI-compatible server on the fixture (cpu device), over real HTTP on localhost.</summary>
public class ServeTests
{
    /// <param name="batched">Continuous batching (what serve runs on the cpu), or one request at a time (the gpu's and placements' way).</param>
    private static async Task<(OpenAiServer Server, GenerationService Service, IDisposable Owner, SentencePieceTokenizer Tokenizer)> Start(bool batched = true)
    {
        var m = ModelLoader.Load(TestPaths.TinyLlama);
        var tokenizer = GgufVocabularies.TokenizerOf(m)!;
        IDisposable owner;
        GenerationService service;
        if (batched)
        {
            var model = BatchedModels.Open("cpu", m.Graph, m.Weights, threads: 2);
            (owner, service) = (model, new GenerationService(model, tokenizer.EosId, new BatchingOptions { ChunkTokens = 16 }));
        }
        else
        {
            var session = DeviceSessions.Open("cpu", m.Graph, m.Weights, threads: 2);
            (owner, service) = ((IDisposable)session, new GenerationService(session, tokenizer.EosId));
        }
        var server = await OpenAiServer.StartAsync(service, tokenizer, "tiny", 0);
        return (server, service, owner, tokenizer);
    }

    private static async Task<string> StreamedText(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/event-stream"));
        var text = new StringBuilder();
        bool done = false;
        string? finish = null;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line["data: ".Length..];
            if (data == "[DONE]") { done = true; break; }
            var choice = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0];
            text.Append(choice.TryGetProperty("delta", out var delta) ? delta.GetProperty("content").GetString() : choice.GetProperty("text").GetString());
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finish = choice.GetProperty("finish_reason").GetString();
        }
        Assert.That(done, "the stream ends with [DONE]");
        Assert.That(finish, Is.AnyOf("length", "stop"));
        return text.ToString();
    }

    [TestCase(true), TestCase(false)]
    public async Task Sixteen_concurrent_streams_get_what_each_gets_alone(bool batched)
    {
        var (server, service, owner, tokenizer) = await Start(batched);
        try
        {
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
            var prompts = Enumerable.Range(0, 16).Select(i => $"{CliRunner.Prompt(i % 4)} {i}").ToArray();
            object Body(int i, bool stream) => i % 2 == 0
                ? new { prompt = prompts[i], max_tokens = 12, temperature = 0, stream }
                : new { messages = new[] { new { role = "user", content = prompts[i] } }, max_tokens = 12, temperature = 0, stream };
            string Path(int i) => i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions";
            var concurrent = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => StreamedText(http, Path(i), Body(i, true))));
            for (int i = 0; i < 16; i++)
            {
                using var alone = await http.PostAsJsonAsync(Path(i), Body(i, false));
                var choice = JsonDocument.Parse(await alone.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
                string text = i % 2 == 0 ? choice.GetProperty("text").GetString()! : choice.GetProperty("message").GetProperty("content").GetString()!;
                Assert.That(concurrent[i], Is.EqualTo(text), $"request {i}");
            }
            // And what the token loop itself generates for the completion prompts.
            var m = ModelLoader.Load(TestPaths.TinyLlama);
            using (m)
            {
                var reference = DeviceSessions.Open("interpreter", m.Graph, m.Weights);
                var ids = TextGenerator.Generate(reference, tokenizer.EncodePrompt(prompts[0]), 12, SamplingOptions.GreedyDecoding, tokenizer.EosId);
                Assert.That(concurrent[0], Is.EqualTo(tokenizer.Decode(ids)));
            }
        }
        finally
        {
            await server.DisposeAsync();
            await service.DisposeAsync();
            owner.Dispose();
        }
    }

    [Test]
    public async Task Malformed_requests_get_a_400_naming_the_problem()
    {
        var (server, service, owner, _) = await Start();
        try
        {
            using var http = new HttpClient { BaseAddress = server.Address };
            async Task Expect(string path, string body, string message)
            {
                using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body);
                var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
                Assert.That(error.GetProperty("message").GetString(), Does.Contain(message), body);
            }
            await Expect("/v1/completions", "{not json", "not valid JSON");
            await Expect("/v1/completions", "[1, 2]", "must be a JSON object");
            await Expect("/v1/completions", "{}", "prompt must be a string");
            await Expect("/v1/completions", """{"prompt": "x", "max_tokens": 0}""", "max_tokens must be at least 1");
            await Expect("/v1/completions", """{"prompt": "x", "max_tokens": "many"}""", "max_tokens must be an integer");
            await Expect("/v1/completions", """{"prompt": "x", "temperature": -1}""", "temperature must be 0 (greedy) or positive");
            await Expect("/v1/completions", """{"prompt": "x", "temperature": 0.7, "top_p": 2}""", "top-p must be in (0, 1]");
            await Expect("/v1/completions", """{"prompt": "x", "max_tokens": 100000}""", "exceed the model's 512 positions");
            await Expect("/v1/completions", """{"prompt": "x", "stream": "yes"}""", "stream must be true or false");
            await Expect("/v1/completions", """{"prompt": "x", "ignore_eos": 1}""", "ignore_eos must be true or false");
            await Expect("/v1/chat/completions", """{"messages": []}""", "messages must be a non-empty array");
            await Expect("/v1/chat/completions", """{"messages": [{"role": "user"}]}""", "content must be a string");
            using var models = await http.GetAsync("/v1/models");
            Assert.That(await models.Content.ReadAsStringAsync(), Does.Contain("\"id\":\"tiny\""));
            // The server still serves after all that.
            Assert.That(await StreamedText(http, "/v1/completions", new { prompt = "x", max_tokens = 3, temperature = 0, stream = true }), Is.Not.Null);
        }
        finally
        {
            await server.DisposeAsync();
            await service.DisposeAsync();
            owner.Dispose();
        }
    }
}
