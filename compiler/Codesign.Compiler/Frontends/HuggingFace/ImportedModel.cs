using Codesign.IR.Graphs;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends;

/// <summary>A model brought into the IR: its graph, the store its weights live in, and its tokenizer (a file, or a vocabulary the model file carries) if any.</summary>
public sealed class ImportedModel(Graph graph, IWeightStore weights, string source, string? tokenizerPath, IDisposable? owner) : IDisposable
{
    public Graph Graph { get; } = graph;
    public IWeightStore Weights { get; } = weights;
    public string Source { get; } = source;
    public string? TokenizerPath { get; } = tokenizerPath;

    /// <summary>The vocabulary a GGUF file carries in place of a tokenizer.model.</summary>
    public Gguf.GgufVocabulary? Vocabulary { get; init; }

    public void Dispose() => owner?.Dispose();
}
