using Codesign.IR.Semantics;

namespace Codesign.Runtime.Scheduling;

/// <summary>One segment of a partitioned graph compiled for its device: host tensors in, host tensors out.</summary>
internal interface ISegmentRunner : IDisposable
{
    string Device { get; }
    /// <summary>Runs the segment once; <paramref name="cache"/> is the sequence's host KV cache (devices with their own ignore it).</summary>
    IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, KvCache cache);
    /// <summary>Forgets device-held sequence state (a KV cache on the device).</summary>
    void Reset();
}
