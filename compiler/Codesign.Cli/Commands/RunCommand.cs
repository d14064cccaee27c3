using System.CommandLine;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign run MODEL|ARTIFACT --prompt TEXT</c>: generate, streaming the text as it comes.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var prompt = new Option<string>("--prompt") { Description = "Prompt text; BOS is prepended as LLaMA tokenizers do.", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "How many tokens to generate at most.", DefaultValueFactory = _ => 64 };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the most likely token (the default unless --temperature is given)." };
        var temperature = new Option<double?>("--temperature") { Description = "Sample with this temperature (> 0)." };
        var topK = new Option<int>("--top-k") { Description = "Sample among the K most likely tokens (0: all)." };
        var topP = new Option<double>("--top-p") { Description = "Sample among the smallest set reaching probability P.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 0 };
        var ids = new Option<bool>("--ids") { Description = "After the text, print the generated token ids space-separated as the last line." };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after the end-of-sequence token (as the fixture's reference continuations do)." };
        var device = ModelArguments.Device();
        var placement = ModelArguments.Placement();
        var threads = ModelArguments.Threads();
        var lut = ModelArguments.Lut();
        var recipe = new Option<string?>("--recipe") { Description = "Compress the model with this recipe (JSON) first, in memory, and run the compressed graph (on the interpreter: the golden tokens an artifact compiled with the recipe must give)." };
        var command = new Command("run", "Generate text from a prompt.") { model, prompt, maxTokens, greedy, temperature, topK, topP, seed, ids, ignoreEos, device, placement, threads, lut, recipe };
        command.SetAction(parse =>
        {
            double? t = parse.GetValue(temperature);
            if (parse.GetValue(greedy) && t is not null)
                throw new CodesignException("--greedy and --temperature exclude each other");
            var options = t is null
                ? SamplingOptions.GreedyDecoding
                : new SamplingOptions { Greedy = false, Temperature = t.Value, TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed) };
            int limit = parse.GetValue(maxTokens);
            if (limit < 0) throw new CodesignException($"--max-tokens must not be negative, got {limit}");

            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            var tokenizer = source.Tokenizer();
            var promptIds = tokenizer.EncodePrompt(parse.GetValue(prompt)!);
            var weights = parse.GetValue(recipe) is { } recipePath ? RecipeRunner.Apply(source.RequireModel("--recipe"), recipePath) : null;
            var session = source.Session(parse.GetValue(device), parse.GetValue(placement), weights, parse.GetValue(threads), parse.GetValue(lut));
            using var owner = session as IDisposable;
            var generated = GenerateStreaming(output, session, tokenizer, promptIds, limit, options, parse.GetValue(ignoreEos));
            if (parse.GetValue(ids)) output.WriteLine(string.Join(' ', generated));
            return 0;
        });
        return command;
    }

    /// <summary>Generates after <paramref name="prompt"/>, writing the text to <paramref name="output"/> as each token comes, then a newline; returns the generated ids.</summary>
    internal static List<int> GenerateStreaming(TextWriter output, ICausalLmSession session, SentencePieceTokenizer tokenizer, IReadOnlyList<int> prompt, int limit,
        SamplingOptions options, bool ignoreEos)
    {
        var stream = new IncrementalDetokenizer(tokenizer);
        var generated = TextGenerator.Generate(session, prompt, limit, options, ignoreEos ? null : tokenizer.EosId, token =>
        {
            output.Write(stream.Push(token));
            output.Flush();
        });
        output.WriteLine(stream.Flush());
        return generated;
    }
}
