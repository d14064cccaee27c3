using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Types;
using Codesign.IR.Values;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>What one forward call's steps share: live device tensors, bound dimension symbols, the KV cache, the device.</summary>
internal sealed class GpuRunState(GpuDevice device, GpuBufferPool pool, GpuKvCache cache, Dictionary<string, long> symbols)
{
    public GpuDevice Device { get; } = device;
    public GpuKernels Kernels => Device.Kernels;
    public GpuGeometry Geometry => Device.Geometry;
    public GpuKvCache Cache { get; } = cache;
    public Dictionary<Value, GpuTensor> Env { get; } = [];
    /// <summary>Host copies of i32 inputs (token ids are checked against the table before any kernel reads them).</summary>
    public Dictionary<Value, int[]> HostInts { get; } = [];

    public int[] Resolve(TensorType type) => type.Shape.Select(d => checked((int)(d.IsSymbolic ? symbols[d.Symbol!] : d.Size))).ToArray();

    public GpuTensor Output(Node node, int index = 0)
    {
        var value = node.Outputs[index];
        var shape = Resolve(value.Type);
        var t = new GpuTensor(shape, pool.Rent(shape.Aggregate(1L, (a, d) => a * d)));
        Env[value] = t;
        return t;
    }

    /// <summary>Temporary device memory for one step; release it once the step has enqueued its kernels (they run in order).</summary>
    public PooledBuffer Scratch(long elements)
    {
        var b = pool.Rent(elements);
        b.AddReference();
        return b;
    }

    public static KernelConfig Groups(int groups, int groupSize) => new(new Index1D(Math.Max(groups, 1)), new Index1D(groupSize));

    public KernelConfig Groups(int groups) => Groups(groups, Geometry.GroupSize);

    public KernelConfig Stride(long items) => Groups(Geometry.StrideGroups(items));
}

/// <summary>
/// One node (or a fused pair) lowered for the gpu: the values it reads, and how it enqueues its kernels; <paramref name="skip"/>
/// says when a neighbour's kernel has done its work already (<see cref="GpuFusionPlan"/>); a <paramref name="view"/>
/// (a reshape) enqueues nothing.
/// </summary>
internal sealed class GpuStep(Node node, IReadOnlyList<Value> reads, Action<GpuRunState> run, Func<GpuRunState, bool>? skip = null, bool view = false)
{
    public Node Node { get; } = node;
    public IReadOnlyList<Value> Reads { get; } = reads;

    /// <returns>Whether the step enqueued kernels (false: skipped, or a view).</returns>
    public bool Run(GpuRunState state)
    {
        try
        {
            if (skip?.Invoke(state) == true) return false;
            run(state);
            return !view;
        }
        catch (Exception e) when (e is not CodesignException)
        {
            throw new CodesignException($"gpu backend: %{Node.Outputs[0].Name} = {Node.Op.Mnemonic} failed on {state.Device.Description}: {e.Message}", e);
        }
    }
}
