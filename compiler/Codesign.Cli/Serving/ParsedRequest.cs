using System.Text;
using System.Text.Json;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Serving;
using Codesign.Runtime.Text;
using Microsoft.AspNetCore.Http;

namespace Codesign.Cli.Serving;

/// <summary>
/// The fields of an OpenAI completions or chat request that we honour, checked one by one: prompt (string) or
/// messages ([{role, content}], rendered as "role: content" lines and a final "assistant:"), max_tokens,
/// temperature (0: greedy), top_p, top_k, seed, stream, ignore_eos (vLLM's). Unknown fields are ignored, as OpenAI's clients send many.
/// </summary>
internal sealed record ParsedRequest(GenerationRequest Generation, bool Stream)
{
    public static async Task<ParsedRequest> Read(HttpRequest http, bool chat, SentencePieceTokenizer tokenizer, int maxPositions)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Body, new JsonDocumentOptions { MaxDepth = 16 }, http.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new CodesignException($"the request body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CodesignException("the request body must be a JSON object");
            string prompt = chat ? ChatPrompt(root) : Text(root, "prompt");
            var ids = tokenizer.EncodePrompt(prompt);
            int max = Int(root, "max_tokens", chat ? Math.Max(1, Math.Min(256, maxPositions - ids.Count)) : 16);
            double temperature = Number(root, "temperature", 1.0);
            if (temperature < 0 || !double.IsFinite(temperature)) throw new CodesignException($"temperature must be 0 (greedy) or positive, got {temperature}");
            var sampling = temperature == 0
                ? SamplingOptions.GreedyDecoding
                : new SamplingOptions { Greedy = false, Temperature = temperature, TopP = Number(root, "top_p", 1.0), TopK = Int(root, "top_k", 0), Seed = Int(root, "seed", 0) };
            bool stream = Bool(root, "stream");
            // vLLM's extension: generate max_tokens whatever the model samples (benchmarks and load tests rely on it).
            return new ParsedRequest(new GenerationRequest(ids.ToArray(), max, sampling, StopAtEos: !Bool(root, "ignore_eos")), stream);
        }
    }

    private static string ChatPrompt(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw new CodesignException("messages must be a non-empty array of {role, content}");
        var text = new StringBuilder();
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw new CodesignException("each message must be an object {role, content}");
            text.Append(Text(m, "role")).Append(": ").Append(Text(m, "content")).Append('\n');
        }
        return text.Append("assistant:").ToString();
    }

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw new CodesignException($"{name} must be true or false"),
        };

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new CodesignException($"{name} must be a string");

    private static int Int(JsonElement e, string name, int fallback) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? fallback
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new CodesignException($"{name} must be an integer");

    private static double Number(JsonElement e, string name, double fallback) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? fallback
        : v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new CodesignException($"{name} must be a number");
}
