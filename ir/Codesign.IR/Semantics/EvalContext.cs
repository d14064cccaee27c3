using Codesign.IR.Types;

namespace Codesign.IR.Semantics;

/// <summary>What an op's reference semantics may see beyond its inputs: symbol bindings and the sequences' KV caches.</summary>
public sealed class EvalContext
{
    private readonly IReadOnlyDictionary<string, long> _symbols;

    public EvalContext(IReadOnlyDictionary<string, long> symbols, KvBatch batch)
    {
        _symbols = symbols;
        Batch = batch;
    }

    public EvalContext(IReadOnlyDictionary<string, long> symbols, KvCache kvCache) : this(symbols, KvBatch.Single(kvCache)) { }

    public KvBatch Batch { get; }

    public int Resolve(Dim dim)
    {
        if (!dim.IsSymbolic) return checked((int)dim.Size);
        return _symbols.TryGetValue(dim.Symbol!, out long v)
            ? checked((int)v)
            : throw new InvalidOperationException($"dimension symbol '{dim.Symbol}' is not bound by any graph input");
    }
}
