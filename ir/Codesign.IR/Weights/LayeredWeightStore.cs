namespace Codesign.IR.Weights;

/// <summary>
/// Tensors held in memory over an optional base store: passes put their rewritten weights here and
/// leave the (often memory-mapped) originals untouched. A key set here hides the base's entry.
/// </summary>
public sealed class LayeredWeightStore(IWeightStore? baseStore = null) : IWeightStore
{
    private readonly Dictionary<string, WeightTensor> _own = new(StringComparer.Ordinal);

    public IWeightStore? Base { get; } = baseStore;

    public IEnumerable<string> Keys => _own.Keys.Concat(Base?.Keys.Where(k => !_own.ContainsKey(k)) ?? []);

    /// <summary>Keys whose tensors this layer holds (the rewritten ones).</summary>
    public IEnumerable<string> OwnKeys => _own.Keys;

    public bool Contains(string key) => _own.ContainsKey(key) || (Base?.Contains(key) ?? false);

    public WeightTensor Get(string key) =>
        _own.TryGetValue(key, out var t) ? t
        : Base is not null ? Base.Get(key)
        : throw new KeyNotFoundException($"no weight '{key}'");

    public void Set(WeightTensor tensor) => _own[tensor.Key] = tensor;
}
