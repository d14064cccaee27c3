using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using static Codesign.Backends.Cpu.Tests.KernelHarness;

namespace Codesign.Backends.Cpu.Tests;

/// <summary>quant.qmatmul with integer activations (act_bits): bit-exact with the interpreter, activation quantization included.</summary>
public class IntegerKernelTests
{
    [TestCase(8, 1, 300), TestCase(8, 5, 77), TestCase(4, 3, 129)]
    public void Activations_quantize_bit_for_bit_as_the_interpreter_does(int bits, int tokens, int k)
    {
        var r = Fresh();
        var x = RandomFloats(r, (long)tokens * k, spread: 6);
        int qmax = ActivationQuantizer.MaxCode(bits);
        // Token 0: exact ties (amax = qmax makes the scale 1, so x.5 values sit on the rounding boundary).
        x[0] = qmax;
        for (int c = 1; c < Math.Min(k, 12); c++) x[c] = (c % 2 == 0 ? -1 : 1) * (c % qmax + 0.5f);
        if (tokens > 2) Array.Clear(x, 2 * k, k); // a zero token
        var codes = new sbyte[tokens * k];
        var scales = new float[tokens];
        using var h = new KernelHarness(new ActivationQuantizeSpec(k, bits));
        h.Run([h.Pin(x), h.Pin(codes), h.Pin(scales)], tokens);
        var expected = new int[k];
        for (int t = 0; t < tokens; t++)
        {
            float scale = ActivationQuantizer.QuantizeRow(x.AsSpan(t * k, k), expected, bits);
            Assert.That(scales[t], Is.EqualTo(scale), $"token {t}");
            Assert.That(codes.AsSpan(t * k, k).ToArray().Select(c => (int)c), Is.EqualTo(expected), $"token {t}");
        }
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(4, 128, false, false, 8, 1, 41, 384).SetName("W4A8_g128_asym_gemv_QServe");
        yield return new TestCaseData(8, 0, true, false, 8, 3, 37, 263).SetName("W8A8_per_channel_odd_K_prefill_SmoothQuant");
        yield return new TestCaseData(4, 32, true, false, 4, 2, 29, 96).SetName("W4A4_g32_sym");
        yield return new TestCaseData(3, 12, false, false, 8, 1, 19, 60).SetName("W3A8_group_12_scalar_decode");
        yield return new TestCaseData(2, 64, true, true, 8, 4, 23, 200).SetName("Ternary_A8_short_last_group");
    }

    [TestCaseSource(nameof(Cases))]
    public void A_compiled_integer_qmatmul_is_bit_exact_with_the_interpreter(int bits, int group, bool symmetric, bool ternary, int actBits, int tokens, int n, int k)
    {
        var r = Fresh();
        var scheme = QuantScheme.Create(bits, group, symmetric || ternary, group == 0 ? DType.F32 : DType.F16, ternary: ternary);
        var w = RandomMatrix(r, scheme, n, k);
        var x = RandomFloats(r, (long)tokens * k, spread: 4);
        var (program, y, expected) = RunNode(new QMatMulOp(QMatMulOp.GroupAccumulate, actBits), w, x, tokens);
        using (program) Assert.That(program.Kernels.Select(s => s.GetType()), Is.EqualTo(new[] { typeof(ActivationQuantizeSpec), typeof(IntegerLinearSpec) }));
        Assert.That(y, Is.EqualTo(expected));
    }

    [TestCase("nm_2_4", "q4g128", 8, 1, 37, 256)]
    [TestCase("nm_4_8", "q8g32", 8, 3, 21, 96)]
    [TestCase("block_4x4", "q4g32", 4, 2, 30, 70)]
    public void A_compiled_integer_spmatmul_computes_its_pruned_codes_as_dense_bit_exactly(string pattern, string element, int actBits, int tokens, int n, int k)
    {
        var r = Fresh();
        var w = RandomSparse(r, pattern, element, n, k);
        var x = RandomFloats(r, (long)tokens * k, spread: 4);
        var (program, y, expected) = RunNode(new SpMatMulOp(actBits), w, x, tokens);
        using (program) Assert.That(program.Kernels.Select(s => s.GetType()), Is.EqualTo(new[] { typeof(ActivationQuantizeSpec), typeof(IntegerLinearSpec) }));
        Assert.That(y, Is.EqualTo(expected));
    }

    [Test]
    public void Groups_whose_dots_could_overflow_32_bits_accumulate_in_64()
    {
        Assert.That(IntegerLinearSpec.For(QuantScheme.Create(8, 0, false, DType.F32), 11008, 8).WideDots, Is.False);
        Assert.That(IntegerLinearSpec.For(QuantScheme.Create(8, 0, false, DType.F32), 70000, 8).WideDots, Is.True);
    }
}
