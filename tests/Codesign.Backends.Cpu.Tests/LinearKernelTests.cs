using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using static Codesign.Backends.Cpu.Tests.KernelHarness;

namespace Codesign.Backends.Cpu.Tests;

public class LinearKernelTests
{
    [TestCase(1, 37, 61), TestCase(1, 129, 200), TestCase(3, 70, 45), TestCase(5, 33, 263), TestCase(1, 8, 7)]
    public void Dense_linear_matches_the_interpreter(int m, int n, int k)
    {
        var r = Fresh();
        var (x, w) = (RandomFloats(r, (long)m * k), RandomFloats(r, (long)n * k));
        var y = new float[m * n];
        using var h = new KernelHarness(new DenseLinearSpec(k));
        h.Run([h.Pin(x), h.Pin(w), h.Pin(y), m, n], n);
        AssertClose(y, MatMulKernel.Linear(x, w, m, n, k), 1e-5);
    }

    private static IEnumerable<TestCaseData> QuantizedCases()
    {
        foreach (int bits in new[] { 2, 3, 4, 5, 8 })
        foreach (bool symmetric in new[] { true, false })
            yield return new TestCaseData(bits, 32, symmetric, false, 1, 45, 256 + 96).SetName($"W{bits}_g32_{(symmetric ? "sym" : "asym")}_gemv");
        yield return new TestCaseData(4, 128, true, false, 1, 77, 300).SetName("W4_g128_short_last_group_and_scalar_tail");
        yield return new TestCaseData(4, 0, false, false, 3, 31, 203).SetName("W4_per_channel_odd_K_prefill");
        yield return new TestCaseData(3, 12, true, false, 2, 19, 60).SetName("W3_group_12_not_a_multiple_of_8");
        yield return new TestCaseData(2, 64, true, true, 1, 53, 320).SetName("Ternary_g64_gemv");
        yield return new TestCaseData(8, 32, true, false, 4, 29, 96).SetName("W8_g32_prefill");
    }

    [TestCaseSource(nameof(QuantizedCases))]
    public void Quantized_linear_matches_the_interpreter(int bits, int group, bool symmetric, bool ternary, int m, int n, int k) =>
        AssertMatches(QuantizedLinearSpec.For, (x, w) => MatMulKernel.Linear(x, w.ToDense(), m, n, k), bits, group, symmetric || ternary, ternary, m, n, k);

    [TestCaseSource(nameof(QuantizedCases))]
    public void Group_accumulating_linear_matches_the_interpreter(int bits, int group, bool symmetric, bool ternary, int m, int n, int k) =>
        AssertMatches(GroupAccumulateLinearSpec.For, (x, w) => QMatMulKernel.GroupAccumulate(x, w, m), bits, group, symmetric || ternary, ternary, m, n, k);

    /// <summary>A kernel over packed codes, f32 scales and u8 zeros (slots x, codes, scales, zeros, y, M, N) against the interpreter's semantics.</summary>
    private static void AssertMatches(Func<QuantScheme, int, IKernelSpec> kernel, Func<float[], QuantizedMatrix, float[]> reference,
        int bits, int group, bool symmetric, bool ternary, int m, int n, int k)
    {
        var r = Fresh();
        var scheme = QuantScheme.Create(bits, group, symmetric, DType.F16, ternary: ternary);
        var matrix = RandomMatrix(r, scheme, n, k);
        var (scales, zeros) = (matrix.Scales, matrix.Zeros);
        var packed = matrix.Pack();
        var x = RandomFloats(r, (long)m * k);
        var y = new float[m * n];
        using var h = new KernelHarness(kernel(scheme, k));
        h.Run([h.Pin(x), h.Pin(packed), h.Pin(scales), zeros is null ? 0 : h.Pin(zeros), h.Pin(y), m, n], n);
        AssertClose(y, reference(x, matrix), 1e-5);
    }

    [Test]
    public void The_quantized_gemv_is_vectorised_for_the_host()
    {
        using var h = new KernelHarness(QuantizedLinearSpec.For(QuantScheme.Create(4, 32, true, DType.F16), 256));
        Assert.That(h.Ir, Does.Contain("<8 x float>").And.Contain("@llvm.fma.v8f32"));
    }
}
