using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Weights;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary>
/// What run and eval take: a model to import (run on any device, compiled in-process) or an artifact from
/// <c>codesign compile --target</c> (run on the device it was compiled for, with the code it carries).
/// </summary>
internal sealed class ModelSource : IDisposable
{
    private ModelSource(ImportedModel? model, CompiledArtifact? artifact)
    {
        Model = model;
        Artifact = artifact;
    }

    public ImportedModel? Model { get; }
    public CompiledArtifact? Artifact { get; }
    public string Path => Model?.Source ?? Artifact!.Directory;

    public static ModelSource Open(string path) =>
        CompiledArtifact.IsArtifact(path) ? new ModelSource(null, CompiledArtifact.Open(path)) : new ModelSource(ModelLoader.Load(path), null);

    /// <summary>The imported model; an artifact is refused for <paramref name="what"/>, which needs the original weights.</summary>
    public ImportedModel RequireModel(string what) =>
        Model ?? throw new CodesignException($"{Path}: is a compiled artifact; {what} needs the model it was compiled from");

    public SentencePieceTokenizer Tokenizer() =>
        (Model is not null ? GgufVocabularies.TokenizerOf(Model) : Artifact!.Tokenizer())
            ?? throw new CodesignException($"{Path}: no tokenizer.model beside the checkpoint and no vocabulary in the file; pass token ids instead of text");

    /// <param name="device">null: the interpreter for a model, the artifact's device for an artifact.</param>
    /// <param name="weights">For a model: the weights to run (the imported ones, or compressed ones); ignored for an artifact.</param>
    public ICausalLmSession Session(string? device, IWeightStore? weights, int threads, LutChoice lut) =>
        Model is not null
            ? DeviceSessions.Open(device ?? "interpreter", Model.Graph, weights ?? Model.Weights, threads, lut, notice: Console.Error.WriteLine)
            : Artifact!.OpenSession(device, threads, Console.Error.WriteLine);

    public void Dispose() => Model?.Dispose();
}
