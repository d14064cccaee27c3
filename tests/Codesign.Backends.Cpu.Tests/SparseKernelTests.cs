using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using static Codesign.Backends.Cpu.Tests.KernelHarness;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>sparse.spmatmul on the cpu (gathered rows, every sparse format) against the interpreter's dense-on-decoded semantics.</summary>
public class SparseKernelTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("nm_2_4", "f32", 1, 37, 68).SetName("NM_2_4_f32_gemv_odd_rows");
        yield return new TestCaseData("nm_2_4", "f16", 3, 45, 212).SetName("NM_2_4_f16_prefill");
        yield return new TestCaseData("nm_1_8", "bf16", 1, 29, 200).SetName("NM_1_8_bf16_gemv_short_rows");
        yield return new TestCaseData("nm_4_8", "q4g32", 2, 23, 96).SetName("NM_4_8_quantized_w4_g32");
        yield return new TestCaseData("nm_4_8", "f32", 1, 19, 40).SetName("NM_4_8_f32_gemv_one_window_past_the_pairs");
        yield return new TestCaseData("nm_1_2", "f32", 1, 21, 90).SetName("NM_1_2_f32_gemv_partial_last_window");
        yield return new TestCaseData("block_4x4", "f32", 2, 30, 70).SetName("Block_4x4_f32_partial_edge_blocks");
        yield return new TestCaseData("unstructured", "f32", 1, 41, 333).SetName("Unstructured_f32_with_an_empty_row");
        yield return new TestCaseData("unstructured", "q3g64", 4, 17, 129).SetName("Unstructured_quantized_w3");
        yield return new TestCaseData("unstructured", "f32", 1, 3, 70001).SetName("Unstructured_K_beyond_16_bit_columns");
    }

    [TestCaseSource(nameof(Cases))]
    public void A_compiled_spmatmul_matches_the_interpreter(string pattern, string element, int tokens, int n, int k)
    {
        var r = Fresh();
        var matrix = RandomSparse(r, pattern, element, n, k);
        var x = RandomFloats(r, (long)tokens * k);
        var (program, y, expected) = RunNode(new IR.Ops.SpMatMulOp(), matrix, x, tokens);
        bool half = HalfSparseLinearSpec.Supports(matrix.Format) && CpuFeatures.Has(HalfSparseLinearSpec.RequiredFeature);
        using (program) Assert.That(program.Kernels.Single().Name, Is.EqualTo(half ? $"half_sparse_linear_k{k}" : $"sparse_linear_k{k}_i{(k <= 65536 ? 16 : 32)}"));
        AssertClose(y, expected, 1e-5);
    }

    [Test]
    public void The_half_sparse_gemv_picks_kept_lanes_with_permutes_not_gathers()
    {
        using var h = new KernelHarness(new HalfSparseLinearSpec(4096));
        Assert.That(h.Ir, Does.Contain("@llvm.x86.avx2.permps").And.Contain("@llvm.fma.v8f32").And.Not.Contain("gather"));
    }

    [Test]
    public void The_sparse_gemv_gathers_eight_activations_at_a_time()
    {
        using var h = new KernelHarness(new SparseLinearSpec(4096));
        Assert.That(h.Ir, Does.Contain("@llvm.masked.gather.v8f32").And.Contain("@llvm.fma.v8f32"));
    }
}
