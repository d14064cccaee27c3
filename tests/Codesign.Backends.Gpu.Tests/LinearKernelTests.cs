using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.Testing;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>Dense and quantized GEMV (few tokens) and tiled GEMM (many) against the interpreter, on sizes no tile divides.</summary>
public class LinearKernelTests
{
    private static readonly int[] TokenCounts = [1, 3, 7, 21];

    [TestCaseSource(nameof(TokenCounts))]
    public void DenseF32MatchesTheInterpreter(int tokens)
    {
        var r = Fresh();
        int n = 37, k = 83;
        var w = RandomFloats(r, (long)n * k);
        var (gpu, reference) = RunLinear(new MatMulOp(), WeightTensor.FromFloats("w", DType.F32, [n, k], w), DType.F32, n, k, RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }

    /// <summary>K = 70 takes the generic GEMV; K = 200, whole 16-byte chunks, takes <c>DenseF16Gemv</c>.</summary>
    [TestCase(1, 70), TestCase(3, 70), TestCase(7, 70), TestCase(21, 70), TestCase(1, 200), TestCase(3, 200), TestCase(4, 200), TestCase(9, 200)]
    public void DenseF16MatchesTheInterpreter(int tokens, int k)
    {
        var r = Fresh();
        int n = 29;
        var w = RandomFloats(r, (long)n * k);
        var (gpu, reference) = RunLinear(new MatMulOp(), WeightTensor.FromFloats("w", DType.F16, [n, k], w), DType.F16, n, k, RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }

    public static IEnumerable<TestCaseData> Schemes()
    {
        foreach (var (bits, group, sym) in new[] { (2, 32, true), (3, 64, true), (4, 32, false), (4, 128, true), (8, 0, true), (5, 24, false), (1, 32, false), (6, 48, true), (7, 32, true) })
            foreach (int tokens in new[] { 1, 2, 9 })
                yield return new TestCaseData(QuantScheme.Create(bits, group, sym, DType.F16), tokens);
        foreach (int tokens in new[] { 1, 6 })
            yield return new TestCaseData(QuantScheme.Create(2, 64, true, DType.F32, ternary: true), tokens);
    }

    [TestCaseSource(nameof(Schemes))]
    public void QuantizedDequantizesInRegisters(QuantScheme scheme, int tokens)
    {
        var r = Fresh();
        int n = 45, k = 200;
        var (gpu, reference) = RunLinear(new QMatMulOp(), RandomMatrix(r, scheme, n, k), RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }

    [TestCase(1), TestCase(11)]
    public void GroupAccumulationMatchesMixPESemantics(int tokens)
    {
        var r = Fresh();
        int n = 33, k = 160;
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        var (gpu, reference) = RunLinear(new QMatMulOp(QMatMulOp.GroupAccumulate), RandomMatrix(r, scheme, n, k), RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }

    /// <summary>
    /// The GEMM in CUDA's group shape (8 warps of 32: 16 × 16 threads, blocks of 64 tokens × 64 rows) over several blocks
    /// each way with ragged edges, for a dense and a quantized weight (the shared device's groups are 16 threads).
    /// </summary>
    [Test]
    public void The_gemm_in_cuda_sized_groups_matches_the_interpreter_over_several_blocks()
    {
        var r = Fresh();
        int tokens = 70, n = 131, k = 100;
        using var device = GpuDevice.OpenCpu(32, 8, Environment.ProcessorCount);
        var x = RandomFloats(r, (long)tokens * k);
        var (graph, store) = LinearNodeGraph.Build(new MatMulOp(), WeightTensor.FromFloats("w", DType.F32, [n, k], RandomFloats(r, (long)n * k)), DType.F32, n, k);
        var (gpu, reference) = Run(graph, store, new() { ["x"] = HostTensor.F32([tokens, k], x) }, device: device);
        AssertClose(gpu, reference, 1e-5);
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        (graph, store) = LinearNodeGraph.Build(new QMatMulOp(), RandomMatrix(r, scheme, n, k));
        (gpu, reference) = Run(graph, store, new() { ["x"] = HostTensor.F32([tokens, k], x) }, device: device);
        AssertClose(gpu, reference, 1e-5);
    }
}
