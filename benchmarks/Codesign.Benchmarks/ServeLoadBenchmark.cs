using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

/// <summary>
/// A load test of <c>codesign serve</c> on localhost: the real server process, streaming completions over HTTP from
/// 1, 4 and 16 concurrent clients, each sending a bounded number of requests (varied prompts, max_tokens generated
/// with ignore_eos). Throughput, time to first token and request latency (p50/p99) for the server with continuous
/// batching, beside the same server with --max-batch 1 (one request at a time) measured in the same run.
/// </summary>
internal static partial class ServeLoadBenchmark
{
    private static readonly string[] Prompts =
    [
        "Once upon a time", "The little dog ran to the park and", "She opened the box and found",
        "Tom and his friend wanted to build a big boat, so they went to the river and looked for wood. Then",
    ];

    public static int Run(string repo, string model, string device, int maxTokens, int requestsPerClient)
    {
        string cli = Path.Combine(repo, "compiler", "Codesign.Cli", "bin", "Release", "net10.0", "codesign.dll");
        if (!File.Exists(cli)) throw new FileNotFoundException($"{cli}: build the CLI first (dotnet build -c Release)");
        Console.WriteLine($"codesign serve {model} --device {device}: {maxTokens} tokens per request, {requestsPerClient} requests per client, streaming; {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| server | clients | requests | tokens/s | vs one at a time | TTFT p50 (ms) | TTFT p99 (ms) | latency p50 (ms) | latency p99 (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var serial = new Dictionary<int, double>();
        foreach (var (label, extra) in new[] { ("one at a time (--max-batch 1)", "--max-batch 1"), ("continuous batching (--max-batch 16)", "--max-batch 16") })
        {
            using var server = Start(cli, model, device, extra, out var address);
            try
            {
                using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
                Request(http, 0, 4).GetAwaiter().GetResult(); // warm-up: JIT and first allocations
                foreach (int clients in new[] { 1, 4, 16 })
                {
                    var clock = Stopwatch.StartNew();
                    var results = Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
                    {
                        var mine = new List<(double Ttft, double Latency, int Tokens)>();
                        for (int i = 0; i < requestsPerClient; i++) mine.Add(await Request(http, c * requestsPerClient + i, maxTokens));
                        return mine;
                    })).GetAwaiter().GetResult().SelectMany(r => r).ToList();
                    double seconds = clock.Elapsed.TotalSeconds;
                    double throughput = results.Sum(r => r.Tokens) / seconds;
                    if (extra.EndsWith(" 1", StringComparison.Ordinal)) serial[clients] = throughput;
                    string ratio = serial.TryGetValue(clients, out var baseline) ? (throughput / baseline).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {label} | {clients} | {results.Count} | {throughput:F0} | {ratio} | {Pct(results.Select(r => r.Ttft), 50):F0} | {Pct(results.Select(r => r.Ttft), 99):F0} | {Pct(results.Select(r => r.Latency), 50):F0} | {Pct(results.Select(r => r.Latency), 99):F0} |"));
                    if (results.Any(r => r.Tokens != maxTokens)) throw new InvalidOperationException("a request came back with fewer tokens than asked: a lost or cut stream");
                }
            }
            finally
            {
                server.Kill(entireProcessTree: true);
            }
        }
        return 0;

        async Task<(double Ttft, double Latency, int Tokens)> Request(HttpClient http, int i, int tokens)
        {
            var clock = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = JsonContent.Create(new { prompt = Prompts[i % Prompts.Length], max_tokens = tokens, temperature = 0.8, seed = i, ignore_eos = true, stream = true }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            double ttft = double.NaN;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                if (double.IsNaN(ttft)) ttft = clock.Elapsed.TotalMilliseconds;
                if (line == "data: [DONE]") return (ttft, clock.Elapsed.TotalMilliseconds, tokens);
                if (line.Contains("\"error\"", StringComparison.Ordinal)) throw new InvalidOperationException($"request {i}: {line}");
            }
            return (ttft, clock.Elapsed.TotalMilliseconds, 0);
        }
    }

    private static double Pct(IEnumerable<double> values, int p)
    {
        var v = values.Order().ToArray();
        return v[Math.Min(v.Length - 1, (int)Math.Ceiling(p / 100.0 * v.Length) - 1)];
    }

    private static Process Start(string cli, string model, string device, string extra, out Uri address)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { cli, "serve", model, "--port", "0", "--device", device }.Concat(extra.Split(' '))) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  server: {e.Data}"); };
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the server exited before it said where it listens");
        address = new Uri(ServingAddress().Match(line) is { Success: true } m ? m.Value : throw new InvalidOperationException($"unexpected first line: {line}"));
        return process;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/?")]
    private static partial Regex ServingAddress();
}
