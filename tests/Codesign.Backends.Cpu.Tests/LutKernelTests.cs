using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Llvm;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using static Codesign.Backends.Cpu.Tests.KernelHarness;

namespace Codesign.Backends.Cpu.Tests;

public class LutKernelTests
{
    [SetUp]
    public void RequireAvx2()
    {
        if (!Execution.CpuFeatures.Has(LutLinearSpec.RequiredFeature)) Assert.Ignore("the LUT kernels use AVX2 byte shuffles; this CPU has none");
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(2, 32, false, false, 1, 45, 256 + 96, DTypeKind.F16).SetName("W2_g32_asym_gemv_odd_rows");
        yield return new TestCaseData(4, 128, true, false, 1, 77, 300, DTypeKind.F16).SetName("W4_g128_short_last_group");
        yield return new TestCaseData(4, 32, false, false, 1, 129, 512, DTypeKind.BF16).SetName("W4_g32_asym_bf16_scales_several_tiles");
        yield return new TestCaseData(3, 64, true, false, 2, 37, 192, DTypeKind.F32).SetName("W3_g64_f32_scales_as_four_planes_prefill");
        yield return new TestCaseData(1, 32, false, false, 1, 21, 96, DTypeKind.F16).SetName("W1_g32_as_two_planes");
        yield return new TestCaseData(2, 64, true, true, 3, 53, 320, DTypeKind.F32).SetName("Ternary_g64_prefill");
        yield return new TestCaseData(4, 0, false, false, 1, 31, 203, DTypeKind.F16).SetName("W4_per_channel_odd_K");
        yield return new TestCaseData(2, 0, true, false, 2, 40, 4104, DTypeKind.BF16).SetName("W2_per_channel_long_row_flushes_16_bit_sums");
        yield return new TestCaseData(4, 12, false, false, 1, 19, 60, DTypeKind.F16).SetName("W4_group_12_padded_to_whole_units");
    }

    [TestCaseSource(nameof(Cases))]
    public void Lut_gemv_is_bit_exact_with_the_interpreter(int bits, int group, bool symmetric, bool ternary, int m, int n, int k, DTypeKind scaleKind)
    {
        var r = Fresh();
        var scaleType = scaleKind switch { DTypeKind.F32 => DType.F32, DTypeKind.BF16 => DType.BF16, _ => DType.F16 };
        var scheme = QuantScheme.Create(bits, group, symmetric || ternary, scaleType, ternary: ternary);
        var w = RandomMatrix(r, scheme, n, k);
        var x = RandomFloats(r, (long)m * k, spread: 4);
        if (m > 1) Array.Clear(x, k, Math.Min(k, 9)); // a run of zeros, and for short groups a group whose ts is 0
        var spec = LutLinearSpec.For(scheme, k);
        var geo = spec.Geometry;
        int blocks = LutGeometry.RowBlocks(n), entries = LutWeightLayout.RowGroupEntries(w.Rows, geo);
        var units = new byte[blocks * geo.BlockBytes];
        var scales = new byte[entries * scheme.ScaleType.ByteSize];
        var zeros = new byte[scheme.Symmetric ? 0 : entries];
        LutWeightLayout.Build(w, geo, units, scales, zeros);
        var tables = new sbyte[m * geo.TableBytesPerToken];
        var ts = new float[m * geo.Groups];
        var sums = new float[m * geo.Groups];
        var y = Enumerable.Repeat(float.NaN, m * n).ToArray();
        using var h = new KernelHarness(new LutTableSpec(geo), spec);
        h.Run([h.Pin(x), h.Pin(tables), h.Pin(ts), h.Pin(sums)], m * geo.Groups, kernel: 0);
        for (int t = 0; t < m; t++)
            for (int q = 0; q < geo.Groups; q++)
            {
                int start = q * geo.GroupLength, length = Math.Min(geo.GroupLength, k - start);
                var expected = LutMpGemmKernel.BuildTables(x.AsSpan(t * k + start, length));
                Assert.That((ts[t * geo.Groups + q], sums[t * geo.Groups + q]), Is.EqualTo((expected.Scale, expected.Sum)), $"token {t}, group {q}");
                var actual = tables.AsSpan((int)(t * geo.TableBytesPerToken + q * geo.GroupTableBytes), expected.Entries.Length).ToArray();
                Assert.That(actual, Is.EqualTo(expected.Entries), $"token {t}, group {q}");
            }
        h.Run([h.Pin(tables), h.Pin(ts), h.Pin(sums), h.Pin(units), h.Pin(scales), zeros.Length == 0 ? 0 : h.Pin(zeros), h.Pin(y), m, n], blocks, kernel: 1);
        Assert.That(y, Is.EqualTo(LutMpGemmKernel.Evaluate(x, w, m)));
    }

    [TestCase(1), TestCase(5)]
    public void A_compiled_lut_node_is_bit_exact_with_the_interpreter(int tokens)
    {
        var r = Fresh();
        var scheme = QuantScheme.Create(2, 32, false, DType.F16);
        int n = 43, k = 160;
        var w = RandomMatrix(r, scheme, n, k);
        var x = RandomFloats(r, (long)tokens * k);
        var (program, y, expected) = RunNode(new IR.Ops.LutMatMulOp(), w, x, tokens);
        program.Dispose();
        Assert.That(y, Is.EqualTo(expected));
    }

    [Test]
    public void The_lut_gemv_is_built_from_byte_shuffles_and_widening_multiply_adds()
    {
        using var h = new KernelHarness(LutLinearSpec.For(QuantScheme.Create(2, 32, true, DType.F16), 256));
        Assert.That(h.Ir, Does.Contain("@llvm.x86.avx2.pshuf.b").And.Contain("@llvm.x86.avx2.pmadd.ub.sw"));
    }
}
