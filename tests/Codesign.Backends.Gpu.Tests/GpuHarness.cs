using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.Testing;
using Codesign.IR.Weights;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// Runs graphs on the gpu backend beside the reference interpreter. The device is ILGPU's CPU accelerator (what CI has)
/// in its default shape, 4-thread warps and 4 warps per group (wider than the runtime's faster 2 x 2, so lane and warp
/// strides are exercised); CODESIGN_GPU_TESTS=cuda runs the same tests on a CUDA device.
/// </summary>
internal static class GpuHarness
{
    private static readonly Lazy<GpuDevice> Shared = new(() => Environment.GetEnvironmentVariable("CODESIGN_GPU_TESTS") == "cuda"
        ? GpuDevice.Open(GpuAcceleratorKind.Cuda)
        : GpuDevice.OpenCpu(4, 4, Environment.ProcessorCount));

    public static GpuDevice Device => Shared.Value;

    /// <summary>Runs <paramref name="graph"/> once on the gpu and on the interpreter with the same inputs and fresh caches.</summary>
    /// <param name="device">Another device than the shared one (another launch shape).</param>
    public static (float[] Gpu, float[] Reference) Run(Graph graph, IWeightStore store, Dictionary<string, HostTensor> inputs, string output = "y", GpuDevice? device = null)
    {
        using var program = GpuProgram.Compile(graph, store, device ?? Device);
        using var cache = program.NewCache();
        var gpu = program.Run(inputs, cache)[output].Floats.ToArray();
        var reference = new ReferenceInterpreter(graph, store).Run(inputs, new KvCache())[output].Floats.ToArray();
        return (gpu, reference);
    }

    /// <summary>The one-node graph y = op(x, w) run on x [tokens, K].</summary>
    public static (float[] Gpu, float[] Reference) RunLinear(Op op, IPackedMatrix w, float[] x, int tokens)
    {
        var (graph, store) = LinearNodeGraph.Build(op, w);
        return Run(graph, store, new() { ["x"] = HostTensor.F32([tokens, checked((int)w.Cols)], x) });
    }

    public static (float[] Gpu, float[] Reference) RunLinear(Op op, WeightTensor weight, DType dtype, int n, int k, float[] x, int tokens)
    {
        var (graph, store) = LinearNodeGraph.Build(op, weight, dtype, n, k);
        return Run(graph, store, new() { ["x"] = HostTensor.F32([tokens, k], x) });
    }
}
