using System.Diagnostics;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Scheduling;

/// <summary>
/// A causal-LM session over a partitioned graph: each segment runs on its device in plan order, values crossing
/// segments pass through host memory and are dropped after the last segment that reads them. Keeps, per device, the
/// wall time of its segments (transfers in and out included) and the bytes sent to it.
/// </summary>
public sealed class PartitionedSession : GraphSession, IKernelTimed, IDisposable
{
    private readonly PartitionPlan _plan;
    private readonly IReadOnlyList<ISegmentRunner> _runners;
    private readonly IDisposable? _shared;
    private readonly Dictionary<string, long> _deviceTicks = [];
    private readonly Dictionary<string, long> _bytesIn = [];

    internal PartitionedSession(PartitionPlan plan, IReadOnlyList<ISegmentRunner> runners, IDisposable? shared) : base(plan.Graph)
    {
        _plan = plan;
        _runners = runners;
        _shared = shared;
        foreach (var d in plan.Placement.Devices)
        {
            _deviceTicks[d] = 0;
            _bytesIn[d] = 0;
        }
    }

    public PartitionPlan Plan => _plan;

    /// <summary>Time spent in each device's segments so far.</summary>
    public IReadOnlyDictionary<string, TimeSpan> DeviceTime => _deviceTicks.ToDictionary(kv => kv.Key, kv => Stopwatch.GetElapsedTime(0, kv.Value));

    /// <summary>Bytes of activations sent to each device so far (values produced elsewhere, graph inputs included).</summary>
    public IReadOnlyDictionary<string, long> BytesIn => _bytesIn;

    public TimeSpan KernelTime => TimeSpan.FromTicks(DeviceTime.Values.Sum(t => t.Ticks));

    protected override float[] Run(int[] tokens, int[] positions)
    {
        var env = CausalLmGraph.Inputs(tokens, positions);
        foreach (var segment in _plan.Segments)
        {
            var inputs = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
            foreach (var input in segment.Graph.Inputs)
            {
                var t = env[input.Name];
                inputs[input.Name] = t;
                _bytesIn[segment.Device] += t.ElementCount * 4;
            }
            long start = Stopwatch.GetTimestamp();
            var outputs = _runners[segment.Index].Run(inputs, Cache);
            _deviceTicks[segment.Device] += Stopwatch.GetTimestamp() - start;
            foreach (var input in segment.Graph.Inputs)
                if (_plan.LastReader[input.Name] == segment.Index) env.Remove(input.Name);
            foreach (var (name, t) in outputs) env[name] = t;
        }
        return AsArray(env[LlamaGraphBuilder.LogitsOutput].Floats);
    }

    protected override void ResetDevice()
    {
        foreach (var r in _runners) r.Reset();
    }

    public void Dispose()
    {
        foreach (var r in _runners) r.Dispose();
        _shared?.Dispose();
    }
}
