using System.Diagnostics;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Values;
using Codesign.IR.Weights;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// A graph lowered for the gpu: weights uploaded once, one step per node (silu·mul fused; in decode, rms_norms, residual
/// adds and sibling GEMVs folded into the word GEMV launches beside them: <see cref="GpuFusionPlan"/>), every kernel
/// enqueued on the accelerator's stream without a host round trip; a forward call synchronises once, to download its outputs.
/// Device buffers come from a pool and return to it after each value's last use.
/// </summary>
public sealed class GpuProgram : IDisposable
{
    private readonly List<GpuStep> _steps = [];
    private readonly List<Value>[] _deadAfter;
    private readonly GpuWeights _weights;
    private readonly GpuBufferPool _pool;
    private readonly bool _ownsDevice;
    private readonly Stopwatch _busy = new();
    private readonly Stopwatch _enqueue = new();

    private GpuProgram(Graph graph, IWeightStore store, GpuDevice device, bool ownsDevice)
    {
        Graph = graph;
        Device = device;
        _ownsDevice = ownsDevice;
        _weights = new GpuWeights(device.Accelerator, store);
        _pool = new GpuBufferPool(device.Accelerator);
        try
        {
            var plan = GpuFusionPlan.For(graph);
            foreach (var node in graph.Nodes)
            {
                if (plan.IsFoldedAway(node)) continue;
                _steps.Add(GpuNodeLowering.Lower(node, _weights, plan, device));
            }
            Fused = [.. plan.Silus.Keys.Select(v => v.Name), .. plan.AttentionRopes.Values.SelectMany(r => new[] { r.Query.Outputs[0].Name, r.Key.Outputs[0].Name })];
            FoldedIntoGemvs = [.. plan.PrologueNorms.Keys.Select(v => v.Name), .. plan.ResidualAdds.Values.Select(a => a.Outputs[0].Name),
                .. plan.SiblingFollowers.Select(n => n.Outputs[0].Name), .. plan.GatedLaunches.Values.Select(g => g.Mul.Outputs[0].Name)];
            _deadAfter = LastReads(graph, _steps);
        }
        catch
        {
            _weights.Dispose();
            _pool.Dispose();
            if (ownsDevice) device.Dispose();
            throw;
        }
    }

    public Graph Graph { get; }
    public GpuDevice Device { get; }

    /// <summary>Bytes of weights on the device.</summary>
    public long WeightBytes => _weights.Bytes;

    /// <summary>Outputs never written to memory: silus folded into the following mul, q and k ropes into attention.</summary>
    public IReadOnlyList<string> Fused { get; }

    /// <summary>Outputs that decode computes inside the GEMVs next to them: rms_norms, residual adds, GEMVs launched
    /// with a sibling before them, and the silu·mul of a gate and up pair.</summary>
    public IReadOnlyList<string> FoldedIntoGemvs { get; }

    /// <summary>Wall time of forward calls, from the first launch to the outputs on the host.</summary>
    public TimeSpan KernelTime => _busy.Elapsed;

    /// <summary>
    /// Host time spent enqueueing the steps' kernels (launches are asynchronous on CUDA): when it comes near
    /// <see cref="KernelTime"/>, a forward call is bound by launch overhead, not by the device.
    /// </summary>
    public TimeSpan EnqueueTime => _enqueue.Elapsed;

    /// <summary>
    /// Steps of the last forward call that enqueued kernels (one per node, fused pairs once, folded ones and reshapes not
    /// counted): its kernel launches, except that attention launches two for prefill and for a cache longer than one
    /// slice, and activation-quantized and LUT linears two each.
    /// </summary>
    public int StepsRun { get; private set; }

    /// <param name="ownsDevice">Dispose <paramref name="device"/> with the program.</param>
    public static GpuProgram Compile(Graph graph, IWeightStore weights, GpuDevice device, bool ownsDevice = false) => new(graph, weights, device, ownsDevice);

    /// <summary>A KV cache on this device, sized for the graph's context when it declares one.</summary>
    public GpuKvCache NewCache() =>
        new(Device.Accelerator, Graph.GetAttribute("max_position_embeddings") is long max ? checked((int)Math.Min(max, 1 << 20)) : 256);

    /// <summary>Runs the graph once: inputs by name (i32 or f32 host tensors), outputs by name on the host.</summary>
    public IReadOnlyDictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, GpuKvCache cache)
    {
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        var state = new GpuRunState(Device, _pool, cache, symbols);
        _busy.Start();
        try
        {
            foreach (var input in Graph.Inputs)
            {
                if (!inputs.TryGetValue(input.Name, out var t))
                    throw new CodesignException($"graph @{Graph.Name}: input %{input.Name} was not given");
                GraphBinding.BindInput(Graph, input, t.Ints is not null, t.Shape, symbols, t.ToString());
                var device = new GpuTensor(t.Shape, _pool.Rent(t.ElementCount), t.Ints is not null);
                if (t.Ints is { } ints)
                {
                    device.Ints.CopyFromCPU(ints);
                    state.HostInts[input] = ints;
                }
                else
                {
                    device.Floats.CopyFromCPU(t.Floats.ToArray());
                }
                state.Env[input] = device;
            }
            _enqueue.Start();
            int ran = 0;
            for (int i = 0; i < _steps.Count; i++)
            {
                if (_steps[i].Run(state)) ran++;
                foreach (var dead in _deadAfter[i])
                    if (state.Env.Remove(dead, out var t)) t.Storage.Release();
            }
            _enqueue.Stop();
            StepsRun = ran;
            var outputs = new Dictionary<string, HostTensor>();
            foreach (var v in Graph.Outputs)
            {
                var t = state.Env[v];
                var host = new float[t.ElementCount];
                t.Floats.CopyToCPU(host);
                outputs[v.Name] = HostTensor.F32(t.Shape, host);
            }
            return outputs;
        }
        finally
        {
            _enqueue.Stop();
            Device.Accelerator.Synchronize();
            foreach (var t in state.Env.Values) t.Storage.Release();
            _busy.Stop();
        }
    }

    /// <summary>For each step, the values no later step reads (graph outputs excepted): their buffers go back to the pool.</summary>
    private static List<Value>[] LastReads(Graph graph, List<GpuStep> steps)
    {
        var last = new Dictionary<Value, int>();
        for (int i = 0; i < steps.Count; i++)
        {
            foreach (var v in steps[i].Reads) last[v] = i;
            foreach (var v in steps[i].Node.Outputs) last.TryAdd(v, i);
        }
        var dead = new List<Value>[steps.Count];
        for (int i = 0; i < dead.Length; i++) dead[i] = [];
        foreach (var (v, i) in last)
            if (!graph.Outputs.Contains(v) && v.WeightKey is null) dead[i].Add(v);
        return dead;
    }

    public void Dispose()
    {
        _weights.Dispose();
        _pool.Dispose();
        if (_ownsDevice) Device.Dispose();
    }
}
