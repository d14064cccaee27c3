using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Codesign.Backends.Fpga.Performance;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Spectre.Console;

namespace Codesign.Cli.Commands;

/// <summary>
/// <c>codesign sim ARTIFACT --prompt TEXT [--max-tokens N] [--device fpga-sim|fpga-model]</c>: greedy generation on
/// the simulated accelerator of an fpga artifact (the prompt in prefill chunks, then a decode step a token), then the
/// cycles a token of each, a decode step's per instruction class, beside the performance model's prediction for the
/// same programs, and the tokens per second they mean at the device's clock.
/// </summary>
internal static class SimCommand
{
    public static Command Create(TextWriter output)
    {
        var artifactPath = new Argument<string>("artifact") { Description = "An artifact directory from codesign compile --target fpga." };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text; BOS is prepended as LLaMA tokenizers do.", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "How many tokens to generate at most.", DefaultValueFactory = _ => 8 };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after the end-of-sequence token." };
        var device = new Option<string>("--device")
        {
            Description = $"{FpgaSession.RtlDevice}: the Verilated accelerator RTL, which counts cycles; {FpgaSession.FunctionalDevice}: the functional model of its instruction set (fast; predicted cycles only).",
            DefaultValueFactory = _ => FpgaSession.RtlDevice,
        };
        var command = new Command("sim", "Generate on an fpga artifact's simulated accelerator and report cycles per token and per instruction class.") { artifactPath, prompt, maxTokens, ignoreEos, device };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(artifactPath)!;
            int limit = parse.GetValue(maxTokens);
            if (limit < 1) throw new CodesignException($"--max-tokens must be at least 1, got {limit}");
            string name = parse.GetValue(device)!;
            var simulator = FpgaSession.Simulator(name) ?? throw new CodesignException($"--device {name}: sim runs {FpgaSession.RtlDevice} or {FpgaSession.FunctionalDevice}");
            var artifact = CompiledArtifact.Open(path);
            var tokenizer = artifact.Tokenizer() ?? throw new CodesignException($"{path}: the artifact has no tokenizer; sim takes a text prompt");
            var promptIds = tokenizer.EncodePrompt(parse.GetValue(prompt)!);
            using var session = artifact.OpenFpga(simulator);
            var clock = Stopwatch.StartNew();
            var generated = RunCommand.GenerateStreaming(output, session, tokenizer, promptIds, limit, SamplingOptions.GreedyDecoding, parse.GetValue(ignoreEos));
            Report(output, session, promptIds.Count, generated.Count, clock.Elapsed);
            return 0;
        });
        return command;
    }

    private static void Report(TextWriter output, FpgaSession session, int promptTokens, int generated, TimeSpan wall)
    {
        var tally = session.Tally;
        var device = session.Device;
        var port = session.Port;
        bool measured = tally.Measured;
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{session.DeviceName}: {promptTokens} prompt tokens and {generated} generated on the {device.Name} at {device.ClockMhz} MHz; memory port {port.BytesPerCycle} bytes/cycle after {port.LatencyCycles} cycles; simulated in {wall.TotalSeconds:F1} s"));
        string PerToken(CycleTally.Phase phase) => measured
            ? $"{F((double)phase.Cycles / phase.Tokens, "F0")} cycles a token (predicted {F((double)phase.PredictedCycles / phase.Tokens, "F0")}, {F((double)phase.PredictedCycles / phase.Cycles, "F3")} of measured)"
            : $"{F((double)phase.PredictedCycles / phase.Tokens, "F0")} cycles a token (predicted)";
        double Rate(CycleTally.Phase phase) => device.ClockMhz * 1e6 * phase.Tokens / (measured ? phase.Cycles : phase.PredictedCycles);
        var prefill = tally.Prefill;
        if (prefill.Steps > 0)
            output.WriteLine($"prefill: {prefill.Tokens} tokens in {prefill.Steps} chunks of up to {session.ChunkTokens}: {PerToken(prefill)}; {F(Rate(prefill), "F1")} tokens/s");
        var decode = tally.Decode;
        output.WriteLine($"decode: {decode.Steps} steps, a token each{(decode.Steps > 0 ? ": " + PerToken(decode) : "")}");
        if (decode.Steps == 0) return;
        double steps = decode.Steps;
        var table = new Table().AddColumn("instruction class (decode)")
            .AddColumn(new TableColumn("cycles / token").RightAligned()).AddColumn(new TableColumn("share").RightAligned())
            .AddColumn(new TableColumn("predicted").RightAligned()).AddColumn(new TableColumn("predicted / measured").RightAligned());
        var classes = decode.PredictedByClass.Keys.Union(decode.ByClass.Keys).OrderByDescending(c => measured ? decode.ByClass.GetValueOrDefault(c) : decode.PredictedByClass.GetValueOrDefault(c));
        foreach (var c in classes)
        {
            double got = decode.ByClass.GetValueOrDefault(c), predicted = decode.PredictedByClass.GetValueOrDefault(c);
            double total = measured ? decode.Cycles : decode.PredictedCycles;
            table.AddRow(c, measured ? F(got / steps, "F0") : "-", F((measured ? got : predicted) / total * 100, "F1") + " %", F(predicted / steps, "F0"),
                measured && got > 0 ? F(predicted / got, "F3") : "-");
        }
        table.AddRow("all", measured ? F(decode.Cycles / steps, "F0") : "-", "100 %", F(decode.PredictedCycles / steps, "F0"), measured ? F((double)decode.PredictedCycles / decode.Cycles, "F3") : "-");
        var console = PlainConsole.Create(output);
        console.Profile.Width = 120;
        console.Write(table);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"decode tokens/s at {device.ClockMhz} MHz: {Rate(decode):F1} ({(measured ? "simulated" : "predicted")} cycles)"));
    }
}
