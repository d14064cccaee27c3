using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Generation;
using Spectre.Console;

namespace Codesign.Cli.Commands;

/// <summary>
/// <c>codesign bench MODEL|ARTIFACT [--device interpreter,cpu] [--prompt-tokens N] [--tokens N] [--runs R]</c>:
/// per device, time to first token, prefill and decode throughput, decode latency percentiles and how busy the
/// device's kernels kept it, as a table (medians over the runs).
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var devices = new Option<string?>("--device") { Description = "Comma-separated devices to measure (a model: interpreter, cpu and/or gpu, default interpreter,cpu; an artifact: its own)." };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length (BOS then fixed token ids).", DefaultValueFactory = _ => 64 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate per run (end-of-sequence is ignored).", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "Runs per device; the table shows medians.", DefaultValueFactory = _ => 3 };
        var placement = ModelArguments.Placement();
        var threads = ModelArguments.Threads();
        var lut = ModelArguments.Lut();
        var command = new Command("bench", "Measure time to first token, throughput and latency per device.") { model, devices, placement, promptTokens, tokens, runs, threads, lut };
        command.SetAction(parse =>
        {
            int p = parse.GetValue(promptTokens), n = parse.GetValue(tokens), r = parse.GetValue(runs);
            if (p < 1 || n < 1 || r < 1) throw new CodesignException($"--prompt-tokens, --tokens and --runs must be at least 1 (got {p}, {n}, {r})");
            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            string? placed = parse.GetValue(placement);
            // Each row: a device, or (device null, placement set) the placed model; an artifact's own device is (null, null).
            var rows = (parse.GetValue(devices) is { } list ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : placed is not null ? [] : source.Artifact is not null ? [null] : new string?[] { "interpreter", "cpu" })
                .Select(d => (Device: d, Placement: (string?)null)).ToList();
            if (placed is not null) rows.Add((null, placed));
            var split = new Table().Title("per device of the placement (decode and prefill together)")
                .AddColumn("device").AddColumn(new TableColumn("share of time").RightAligned()).AddColumn(new TableColumn("ms per token").RightAligned())
                .AddColumn(new TableColumn("bytes in per token").RightAligned());
            var table = new Table().Title($"{Markup.Escape(source.Path)}: {p}-token prompt, {n} generated tokens, median of {r} run(s)")
                .AddColumn("device").AddColumn("threads").AddColumn(new TableColumn("time to first token (ms)").RightAligned())
                .AddColumn(new TableColumn("prefill tokens/s").RightAligned()).AddColumn(new TableColumn("decode ms/token p50").RightAligned())
                .AddColumn(new TableColumn("p99").RightAligned()).AddColumn(new TableColumn("decode tokens/s").RightAligned())
                .AddColumn(new TableColumn("kernels busy").RightAligned());
            foreach (var (name, rowPlacement) in rows)
            {
                var session = source.Session(name, rowPlacement, null, parse.GetValue(threads), parse.GetValue(lut));
                using var owner = session as IDisposable;
                var prompt = Enumerable.Range(0, p).Select(i => i == 0 ? 1 : 3 + i * 7 % (session.VocabSize - 3)).ToArray();
                if (p + n > session.MaxPositions) throw new CodesignException($"--prompt-tokens {p} + --tokens {n} exceed the model's {session.MaxPositions} positions");
                TextGenerator.Generate(session, prompt, Math.Min(n, 4), SamplingOptions.GreedyDecoding); // warm-up
                var partitioned = session as Runtime.Scheduling.PartitionedSession;
                var timeBefore = partitioned?.DeviceTime;
                var bytesBefore = partitioned?.BytesIn.ToDictionary();
                var results = new List<(GenerationTimings Timings, double Busy)>();
                for (int i = 0; i < r; i++)
                {
                    var kernelsBefore = (session as IKernelTimed)?.KernelTime ?? TimeSpan.Zero;
                    var clock = Stopwatch.StartNew();
                    var (_, timings) = TextGenerator.GenerateTimed(session, prompt, n, SamplingOptions.GreedyDecoding);
                    double busy = session is IKernelTimed k ? (k.KernelTime - kernelsBefore) / clock.Elapsed : double.NaN;
                    results.Add((timings!, busy));
                }
                double Median(Func<(GenerationTimings Timings, double Busy), double> f) { var v = results.Select(f).Order().ToArray(); return v[v.Length / 2]; }
                string F(double v, string format) => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);
                if (partitioned is not null)
                {
                    long tokensRun = (long)r * (p + n - 1); // every token is fed but the last one sampled
                    var spent = partitioned.DeviceTime.ToDictionary(kv => kv.Key, kv => (kv.Value - timeBefore![kv.Key]).TotalMilliseconds);
                    foreach (var (d, ms) in spent)
                        split.AddRow(d, F(ms / spent.Values.Sum() * 100, "F1") + " %", F(ms / tokensRun, "F3"),
                            F((double)(partitioned.BytesIn[d] - bytesBefore![d]) / tokensRun, "F0"));
                }
                table.AddRow(Markup.Escape(rowPlacement is not null ? $"placed: {rowPlacement}" : name ?? ArtifactRowName(source.Artifact!)), name != "interpreter" && parse.GetValue(threads) is > 0 and var t ? t.ToString(CultureInfo.InvariantCulture) : "all",
                    F(Median(x => x.Timings.TimeToFirstToken.TotalMilliseconds), "F1"), F(Median(x => x.Timings.PrefillTokensPerSecond), "F0"),
                    F(Median(x => x.Timings.DecodeP50.TotalMilliseconds), "F3"), F(Median(x => x.Timings.DecodeP99.TotalMilliseconds), "F3"),
                    F(Median(x => x.Timings.DecodeTokensPerSecond), "F0"), F(Median(x => x.Busy * 100), "F0") + (results.Any(x => !double.IsNaN(x.Busy)) ? " %" : ""));
            }
            var console = PlainConsole.Create(output);
            console.Profile.Width = 160;
            console.Write(table);
            if (split.Rows.Count > 0) console.Write(split);
            return 0;
        });
        return command;
    }

    private static string ArtifactRowName(Runtime.Artifacts.CompiledArtifact artifact) =>
        artifact.Placement is { } placement ? $"placed: {placement}" : artifact.Devices[0];
}
