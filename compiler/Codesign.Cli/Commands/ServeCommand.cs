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
        var command = new Command("serve", "Serve /v1/completions and /v1/chat/completions (OpenAI-compatible, streaming with server-sent events) on localhost.") { model, port, device, placement, threads, lut };
        command.SetAction(parse =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new CodesignException($"--port must be 0..65535, got {p}");
            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            var tokenizer = source.Tokenizer();
            var session = source.Session(parse.GetValue(device), parse.GetValue(placement), null, parse.GetValue(threads), parse.GetValue(lut));
            using var owner = session as IDisposable;
            var service = new GenerationService(session, tokenizer.EosId);
            var server = OpenAiServer.StartAsync(service, tokenizer, Path.GetFileName(Path.TrimEndingDirectorySeparator(source.Path)), p).GetAwaiter().GetResult();
            output.WriteLine($"serving {source.Path} on {server.Address} (POST /v1/completions, /v1/chat/completions; Ctrl+C stops)");
            output.Flush();
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            service.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }
}
