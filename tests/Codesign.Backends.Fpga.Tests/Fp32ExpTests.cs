using Codesign.Backends.Fpga.Numerics;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The special-function unit's fixed-point exponential against f64 exp, over its whole range.</summary>
public class Fp32ExpTests
{
    private static long UlpDistance(float a, float b) => Math.Abs((long)BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    [Test]
    public void Exp_is_within_one_unit_in_the_last_place_and_mostly_correctly_rounded()
    {
        var r = Fresh();
        int exact = 0, count = 0;
        long worst = 0;
        float worstAt = 0;
        void Check(float x)
        {
            float expected = (float)Math.Exp(x), actual = Fp32Exp.Exp(x);
            long d = UlpDistance(actual, expected);
            if (d > worst) (worst, worstAt) = (d, x);
            if (d == 0) exact++;
            count++;
        }
        for (int i = 0; i < 300_000; i++) Check((float)(r.NextDouble() * 192 - 104)); // through overflow and the subnormal outputs
        for (int i = 0; i < 100_000; i++) Check((float)(r.NextDouble() * 20 - 10));
        for (int i = 0; i < 100_000; i++) Check((float)((r.NextDouble() * 2 - 1) * Math.Pow(2, -r.Next(1, 60))));
        foreach (float x in new[] { 0f, -0f, 88.72283f, 88.72284f, 88.7229f, -87.33654f, -103.27893f, -103.9721f, -104f, float.Epsilon, -float.Epsilon, 1f, -1f })
            Check(x);
        TestContext.Out.WriteLine($"{count} inputs: {(double)exact / count:P2} correctly rounded, worst {worst} ulp at {worstAt:R}");
        Assert.That(worst, Is.LessThanOrEqualTo(1), $"worst at {worstAt:R}");
        Assert.That((double)exact / count, Is.GreaterThan(0.97));
    }

    [Test]
    public void Special_values_give_the_IEEE_results()
    {
        Assert.That(Fp32Exp.Exp(float.PositiveInfinity), Is.EqualTo(float.PositiveInfinity));
        Assert.That(BitConverter.SingleToUInt32Bits(Fp32Exp.Exp(float.NegativeInfinity)), Is.EqualTo(0u));
        Assert.That(BitConverter.SingleToUInt32Bits(Fp32Exp.Exp(float.NaN)), Is.EqualTo(Fp32Exp.QuietNaN));
        Assert.That(Fp32Exp.Exp(0f), Is.EqualTo(1f));
        Assert.That(Fp32Exp.Exp(200f), Is.EqualTo(float.PositiveInfinity));
        Assert.That(BitConverter.SingleToUInt32Bits(Fp32Exp.Exp(-200f)), Is.EqualTo(0u));
    }
}
