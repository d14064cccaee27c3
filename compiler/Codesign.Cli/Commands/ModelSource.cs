using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Weights;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Scheduling;
using Codesign.Runtime.Serving;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary>
/// What run and eval take: a model to import (run on any device, compiled in-process) or an artifact from
/// <c>codesign compile --target</c> (run on the device it was compiled for, with the code it carries).
/// </summary>
internal sealed class ModelSource : IDisposable
{
    private readonly TextWriter _notices;

    private ModelSource(ImportedModel? model, CompiledArtifact? artifact, TextWriter notices)
    {
        Model = model;
        Artifact = artifact;
        _notices = notices;
    }

    public ImportedModel? Model { get; }
    public CompiledArtifact? Artifact { get; }
    public string Path => Model?.Source ?? Artifact!.Directory;

    /// <param name="notices">Where sessions tell what they chose or fell back to (the command's error stream).</param>
    public static ModelSource Open(string path, TextWriter notices) =>
        CompiledArtifact.IsArtifact(path) ? new ModelSource(null, CompiledArtifact.Open(path), notices) : new ModelSource(ModelLoader.Load(path), null, notices);

    /// <summary>The imported model; an artifact is refused for <paramref name="what"/>, which needs the original weights.</summary>
    public ImportedModel RequireModel(string what) =>
        Model ?? throw new CodesignException($"{Path}: is a compiled artifact; {what} needs the model it was compiled from");

    public SentencePieceTokenizer Tokenizer() =>
        (Model is not null ? GgufVocabularies.TokenizerOf(Model) : Artifact!.Tokenizer())
            ?? throw new CodesignException($"{Path}: no tokenizer.model beside the checkpoint and no vocabulary in the file; pass token ids instead of text");

    /// <param name="device">null: the interpreter for a model, the artifact's device for an artifact.</param>
    /// <param name="placement">A model split across devices (<see cref="PartitionedSessions"/>); excludes <paramref name="device"/>. The plan is told to the notices.</param>
    /// <param name="weights">For a model: the weights to run (the imported ones, or compressed ones); ignored for an artifact.</param>
    public ICausalLmSession Session(string? device, string? placement, IWeightStore? weights, int threads, LutChoice lut)
    {
        if (placement is not null)
        {
            if (device is not null) throw new CodesignException("--device and --placement exclude each other: the placement names the devices");
            if (Artifact is not null)
                throw new CodesignException(Artifact.Placement is { } compiled
                    ? $"{Path}: was compiled with --placement {compiled} and runs as placed; leave out --placement, or compile the model again with --placement {placement}"
                    : $"{Path}: is compiled for {string.Join(", ", Artifact.Devices)}; compile the model with --placement {placement} to run it placed");
            var model = RequireModel("--placement");
            var session = PartitionedSessions.Open(placement, model.Graph, weights ?? model.Weights, threads, lut, _notices.WriteLine);
            _notices.WriteLine($"placement {placement}: {session.Plan.Segments.Count} segments; {session.Plan.Placement.Summary()}");
            return session;
        }
        if (Model is not null) return DeviceSessions.Open(device ?? "interpreter", Model.Graph, weights ?? Model.Weights, threads, lut, notice: _notices.WriteLine);
        var opened = Artifact!.OpenSession(device, threads, _notices.WriteLine);
        if (opened is PartitionedSession placed)
            _notices.WriteLine($"placement {Artifact.Placement} (compiled): {placed.Plan.Segments.Count} segments; {placed.Plan.Placement.Summary()}");
        return opened;
    }

    /// <summary>The model for continuous batching on <paramref name="device"/>, or null where that device (or a placement) serves one sequence at a time.</summary>
    public IBatchedModel? BatchedModel(string? device, string? placement, int threads, LutChoice lut)
    {
        if (placement is not null) return null;
        if (Model is null) return Artifact!.OpenBatched(device, threads);
        device ??= "interpreter";
        return BatchedModels.CanBatch(device) ? BatchedModels.Open(device, Model.Graph, Model.Weights, threads, lut) : null;
    }

    public void Dispose() => Model?.Dispose();
}
