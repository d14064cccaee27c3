using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using static Codesign.Backends.Gpu.Tests.GpuHarness;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>The paths whose semantics are integer: W8A8/W4A8 qmatmul and LUT-mpGEMM, compared bit for bit.</summary>
public class IntegerAndLutKernelTests
{
    [TestCase(8, 8, 128, true, 1), TestCase(4, 8, 32, false, 3), TestCase(4, 4, 64, true, 2), TestCase(8, 8, 0, false, 5), TestCase(3, 8, 24, true, 1)]
    public void Integer_qmatmul_is_bit_exact(int bits, int actBits, int group, bool symmetric, int tokens)
    {
        var r = Fresh();
        int n = 41, k = 300;
        var (gpu, reference) = RunLinear(new QMatMulOp(actBits: actBits), RandomMatrix(r, QuantScheme.Create(bits, group, symmetric, DType.F16), n, k), RandomFloats(r, (long)tokens * k), tokens);
        Assert.That(gpu, Is.EqualTo(reference));
    }

    [TestCase("nm_2_4", "q4g128", 1), TestCase("nm_4_8", "q8g32", 3), TestCase("block_4x4", "q4g32", 2)]
    public void Integer_spmatmul_computes_its_pruned_codes_as_dense_bit_exactly(string pattern, string element, int tokens)
    {
        var r = Fresh();
        int n = 37, k = 256;
        var (gpu, reference) = RunLinear(new SpMatMulOp(8), RandomSparse(r, pattern, element, n, k), RandomFloats(r, (long)tokens * k), tokens);
        Assert.That(gpu, Is.EqualTo(reference));
    }

    [Test]
    public void Integer_qmatmul_of_a_zero_row_is_zero()
    {
        var r = Fresh();
        int n = 9, k = 64;
        var (gpu, reference) = RunLinear(new QMatMulOp(actBits: 8), RandomMatrix(r, QuantScheme.Create(4, 32, true, DType.F16), n, k), new float[2 * k], 2);
        Assert.That(gpu, Is.EqualTo(reference));
        Assert.That(gpu, Is.All.EqualTo(0f));
    }

    [TestCase(1, 32, false, false, 1), TestCase(2, 32, true, false, 2), TestCase(2, 64, true, true, 1), TestCase(3, 48, false, false, 3), TestCase(4, 128, true, false, 1), TestCase(4, 30, false, false, 4)]
    public void Lut_mpgemm_is_bit_exact(int bits, int group, bool symmetric, bool ternary, int tokens)
    {
        var r = Fresh();
        int n = 35, k = 250;
        var scheme = QuantScheme.Create(bits, group, symmetric, DType.F16, ternary: ternary);
        var (gpu, reference) = RunLinear(new LutMatMulOp(), RandomMatrix(r, scheme, n, k), RandomFloats(r, (long)tokens * k), tokens);
        Assert.That(gpu, Is.EqualTo(reference));
    }
}
