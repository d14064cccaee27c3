using System.Globalization;
using System.Text;
using Codesign.Backends.Fpga.Numerics;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The binary32 units in Verilator against C#'s float arithmetic (what the interpreter computes with), bit for bit:
/// random values over the whole exponent range, subnormals, zeros of both signs, infinities, ties, overflow and
/// underflow, and cancellation.
/// </summary>
[Category("Verilator")]
public class FloatUnitTests : RequiresVerilator
{
    private static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);
    private static float Float(uint u) => BitConverter.UInt32BitsToSingle(u);

    private static uint[] Simulate(IReadOnlyList<(int Op, uint A, uint B)> cases)
    {
        var rtl = GroupDequantRtl.Render();
        rtl.Remove("group_dequant.sv");
        rtl["fp32_exp.sv"] = Fp32ExpRtl.Render();
        rtl["fp32_div.sv"] = RtlTemplates.Render("fp32_div", new Dictionary<string, object> { ["module_name"] = "fp32_div" });
        rtl["fp32_ops_top.sv"] = File.ReadAllText(Testbench("fp32_ops_top.sv"));
        string exe = Verilator.Build(rtl, [Testbench("fp32_ops_tb.cpp")], "fp32_ops_top");
        var input = new StringBuilder();
        foreach (var (op, a, b) in cases) input.Append(CultureInfo.InvariantCulture, $"{op:x} {a:x8} {b:x8}\n");
        return [.. MpeChainHarness.RunTestbench(exe, input.ToString()).Select(l => uint.Parse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
    }

    /// <summary>Values that stress rounding: every exponent, subnormals, signed zeros, infinities, near-ties.</summary>
    private static uint RandomOperand(Random r) => r.Next(10) switch
    {
        0 => (uint)r.Next(0, 1 << 23) | (r.Next(2) == 0 ? 0u : 0x8000_0000u),                     // subnormal or zero
        1 => new[] { 0u, 0x8000_0000u, 0x7f80_0000u, 0xff80_0000u, 0x0080_0000u, 0x7f7f_ffffu, 0x3f80_0000u, 0x0000_0001u }[r.Next(8)],
        2 => (uint)(r.Next(100, 156) << 23) | (uint)r.Next(0, 4) | (r.Next(2) == 0 ? 0u : 0x8000_0000u), // near powers of two
        _ => (uint)r.Next(0, 0x7f80_0000) | (r.Next(2) == 0 ? 0u : 0x8000_0000u),                    // any finite
    };

    [Test]
    public void Division_equals_csharp_float_division_bit_for_bit()
    {
        var r = Fresh();
        var cases = new List<(int Op, uint A, uint B)>();
        for (int i = 0; i < 30_000; i++) cases.Add((4, RandomOperand(r), RandomOperand(r)));
        // Quotients near 1 and exact ones, and the quantizer's x / (max / 127).
        for (int i = 0; i < 5_000; i++)
        {
            uint b = RandomOperand(r);
            cases.Add((4, b + (uint)r.Next(-2, 3), b));
            float x = (float)(r.NextDouble() * 2 - 1) * MathF.Pow(2, r.Next(-20, 20));
            cases.Add((4, Bits(x), Bits(MathF.Abs(x) * (float)(1 + r.NextDouble() * 3) / 127f)));
            cases.Add((4, Bits((float)r.Next(1, 1 << 24)), Bits((float)r.Next(1, 1 << 12))));
        }
        var got = Simulate(cases);
        for (int i = 0; i < cases.Count; i++)
        {
            var (_, a, b) = cases[i];
            float expected = Float(a) / Float(b);
            if (float.IsNaN(expected))
            {
                Assert.That(got[i], Is.EqualTo(0x7fc0_0000u), $"{a:x8} / {b:x8} is the quiet NaN");
                continue;
            }
            Assert.That(got[i].ToString("x8", CultureInfo.InvariantCulture), Is.EqualTo(Bits(expected).ToString("x8", CultureInfo.InvariantCulture)),
                $"{a:x8} ({Float(a):R}) / {b:x8} ({Float(b):R})");
        }
    }

    [Test]
    public void Multiply_add_and_conversion_equal_csharp_float_arithmetic_bit_for_bit()
    {
        var r = Fresh();
        var cases = new List<(int Op, uint A, uint B)>();
        for (int i = 0; i < 20_000; i++)
        {
            uint a = RandomOperand(r), b = RandomOperand(r);
            cases.Add((0, a, b));
            cases.Add((1, a, b));
            // Cancellation: b close to −a.
            cases.Add((1, a, (a ^ 0x8000_0000u) + (uint)r.Next(-3, 4)));
        }
        foreach (int v in new[] { 0, 1, -1, int.MaxValue, int.MinValue, 16_777_217, -16_777_219, 33_554_435, 1 << 30 })
            cases.Add((2, (uint)v, 0));
        for (int i = 0; i < 5_000; i++) cases.Add((2, (uint)r.Next(int.MinValue, int.MaxValue) >> r.Next(0, 31), 0));

        var got = Simulate(cases);
        Assert.That(got, Has.Length.EqualTo(cases.Count));
        for (int i = 0; i < cases.Count; i++)
        {
            var (op, a, b) = cases[i];
            float expected = op switch
            {
                0 => Float(a) * Float(b),
                1 => Float(a) + Float(b),
                _ => (float)(int)a,
            };
            if (float.IsNaN(expected))
            {
                Assert.That(float.IsNaN(Float(got[i])), $"op {op}: {a:x8}, {b:x8} is NaN, got {got[i]:x8}");
                continue;
            }
            Assert.That(got[i].ToString("x8", CultureInfo.InvariantCulture), Is.EqualTo(Bits(expected).ToString("x8", CultureInfo.InvariantCulture)),
                $"op {op} ({(op == 0 ? "mul" : op == 1 ? "add" : "int to float")}): {a:x8} ({Float(a):R}), {b:x8} ({Float(b):R})");
        }
    }

    /// <summary>Inputs for the exponential: its whole range, the edges of overflow and underflow, tiny and special values.</summary>
    private static uint RandomExpOperand(Random r) => r.Next(6) switch
    {
        0 => Bits((float)(r.NextDouble() * 240 - 120)),
        1 => Bits((float)(r.NextDouble() * 20 - 10)),
        2 => Bits((float)(r.NextDouble() * 2 - 1) * MathF.Pow(2, -r.Next(0, 40))),
        3 => Bits(new[] { 88.72283f, 88.72284f, 88.7229f, -87.33654f, -103.27893f, -103.9721f, -104f, -126.5f, 127.99f, 128f }[r.Next(10)])
            + (uint)r.Next(-2, 3),
        4 => RandomOperand(r),
        _ => (uint)r.Next(0x3f00_0000, 0x4300_0000) | (r.Next(2) == 0 ? 0u : 0x8000_0000u),
    };

    [Test]
    public void Exponential_equals_the_fixed_point_specification_bit_for_bit()
    {
        var r = Fresh();
        var cases = Enumerable.Range(0, 40_000).Select(_ => (3, RandomExpOperand(r), 0u))
            .Concat(new uint[] { 0, 0x8000_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_1234, 1, 0x8000_0001 }.Select(a => (3, a, 0u))).ToList();
        var got = Simulate(cases);
        for (int i = 0; i < cases.Count; i++)
        {
            uint a = cases[i].Item2;
            Assert.That(got[i].ToString("x8", CultureInfo.InvariantCulture), Is.EqualTo(Fp32Exp.Exp(a).ToString("x8", CultureInfo.InvariantCulture)), $"exp of {a:x8} ({Float(a):R})");
        }
    }
}
