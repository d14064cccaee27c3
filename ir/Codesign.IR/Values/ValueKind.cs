namespace Codesign.IR.Values;

public enum ValueKind
{
    /// <summary>Fed by the caller on each run (token ids, positions).</summary>
    Input,
    /// <summary>A constant backed by an entry of the weight store, referenced by name.</summary>
    Weight,
    /// <summary>Produced by a node.</summary>
    Result,
}
