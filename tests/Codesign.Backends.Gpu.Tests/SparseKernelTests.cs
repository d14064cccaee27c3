using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>sparse.spmatmul (N:M as values plus in-window offsets, other patterns as ELL rows) against the interpreter.</summary>
public class SparseKernelTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (int tokens in new[] { 1, 3, 13 })
        {
            yield return new TestCaseData("nm_2_4", "f32", tokens, 37, 68);
            yield return new TestCaseData("nm_4_8", "q4g32", tokens, 23, 96);
            yield return new TestCaseData("block_4x4", "f32", tokens, 30, 70);
            yield return new TestCaseData("unstructured", "q3g64", tokens, 17, 129);
        }
        yield return new TestCaseData("nm_1_8", "bf16", 1, 29, 200);
        yield return new TestCaseData("nm_3_7", "f16", 18, 19, 91);
        yield return new TestCaseData("nm_1_2", "f32", 6, 21, 90);
    }

    [TestCaseSource(nameof(Cases))]
    public void Spmatmul_matches_the_interpreter(string pattern, string element, int tokens, int n, int k)
    {
        var r = Fresh();
        var matrix = RandomSparse(r, pattern, element, n, k);
        var (gpu, reference) = RunLinear(new SpMatMulOp(), matrix, RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }
}
