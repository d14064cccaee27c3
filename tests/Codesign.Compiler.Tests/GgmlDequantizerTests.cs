using System.Buffers.Binary;
using Codesign.Compiler.Frontends.Gguf;

namespace Codesign.Compiler.Tests;

/// <summary>Each ggml block type decoded against values worked out by hand from the format's definition (ggml-common.h, ggml-quants.c).</summary>
public class GgmlDequantizerTests
{
    private static float[] Decode(GgmlType type, byte[] block)
    {
        var y = new float[GgmlTypeInfo.Of(type).BlockSize];
        GgmlDequantizer.Dequantize(type, block, y);
        return y;
    }

    private static byte[] Block(GgmlType type) => new byte[GgmlTypeInfo.Of(type).TypeSize];
    private static void Half(byte[] b, int at, float v) => BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(at), (Half)v);

    [Test]
    public void Q4_0_low_nibbles_are_the_first_half_and_values_are_d_times_q_minus_8()
    {
        var b = Block(GgmlType.Q4_0);
        Half(b, 0, 0.5f);
        b[2] = 0x3A;
        var y = Decode(GgmlType.Q4_0, b);
        Assert.That((y[0], y[16], y[1]), Is.EqualTo((1.0f, -2.5f, -4f)));
    }

    [Test]
    public void Q4_1_adds_the_block_minimum()
    {
        var b = Block(GgmlType.Q4_1);
        Half(b, 0, 0.5f);
        Half(b, 2, -1f);
        b[4] = 0x21;
        var y = Decode(GgmlType.Q4_1, b);
        Assert.That((y[0], y[16], y[1]), Is.EqualTo((-0.5f, 0f, -1f)));
    }

    [Test]
    public void Q5_0_and_Q5_1_take_the_fifth_bit_from_qh()
    {
        var b = Block(GgmlType.Q5_0);
        Half(b, 0, 1f);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(2), 1u | (1u << 17));
        b[6] = 0x05;
        var y = Decode(GgmlType.Q5_0, b);
        Assert.That((y[0], y[16], y[17], y[1]), Is.EqualTo((5f, -16f, 0f, -16f)));
        var c = Block(GgmlType.Q5_1);
        Half(c, 0, 2f);
        Half(c, 2, 0.5f);
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), 1u << 16);
        c[8] = 0x13;
        var z = Decode(GgmlType.Q5_1, c);
        Assert.That((z[0], z[16]), Is.EqualTo((6.5f, 34.5f)));
    }

    [Test]
    public void Q8_0_is_d_times_a_signed_byte()
    {
        var b = Block(GgmlType.Q8_0);
        Half(b, 0, 0.25f);
        b[2 + 3] = unchecked((byte)-7);
        Assert.That(Decode(GgmlType.Q8_0, b)[3], Is.EqualTo(-1.75f));
    }

    [Test]
    public void Q2_K_uses_four_bit_scales_and_mins_per_sixteen()
    {
        var b = Block(GgmlType.Q2_K);
        b[0] = 0x21; // scale 1, min 2 for y[0..15]
        b[2] = 0x13; // scale 3, min 1 for y[32..47] (second shift)
        b[16] = 0b0000_1011; // q[0]: bits 0-1 = 3, bits 2-3 = 2
        Half(b, 80, 0.5f);
        Half(b, 82, 0.25f);
        var y = Decode(GgmlType.Q2_K, b);
        Assert.That((y[0], y[32]), Is.EqualTo((0.5f * 3 - 0.5f, 1.5f * 2 - 0.25f)));
    }

    [Test]
    public void Q3_K_subtracts_four_where_the_high_bit_is_clear()
    {
        var b = Block(GgmlType.Q3_K);
        b[0] = 1; // hmask bit for y[0]
        b[32] = 0b01; // q[0] = 1, q[1] = 0
        Half(b, 108, 1f / 32);
        var y = Decode(GgmlType.Q3_K, b);
        // All 6-bit scales are 0, so each sub-block scale is d·(0 − 32) = −1.
        Assert.That((y[0], y[1]), Is.EqualTo((-1f, 4f)));
    }

    [Test]
    public void Q4_K_and_Q5_K_use_six_bit_scales_and_mins()
    {
        var b = Block(GgmlType.Q4_K);
        Half(b, 0, 1f);
        Half(b, 2, 1f);
        b[4] = 2; // scale of sub-block 0
        b[8] = 1; // min of sub-block 0
        b[16] = 0x53;
        var y = Decode(GgmlType.Q4_K, b);
        Assert.That((y[0], y[32]), Is.EqualTo((5f, 0f)));
        var c = Block(GgmlType.Q5_K);
        Half(c, 0, 1f);
        Half(c, 2, 1f);
        c[4] = 2;
        c[8] = 1;
        c[16] = 1; // qh bit 0: +16 for y[0]
        c[48] = 0x53;
        Assert.That(Decode(GgmlType.Q5_K, c)[0], Is.EqualTo(2f * (3 + 16) - 1));
    }

    [Test]
    public void Q6_K_combines_four_low_and_two_high_bits_minus_32()
    {
        var b = Block(GgmlType.Q6_K);
        b[0] = 0x0F;
        b[128] = 0b01;
        b[192] = 2;
        Half(b, 208, 0.5f);
        Assert.That(Decode(GgmlType.Q6_K, b)[0], Is.EqualTo(-1f));
    }

    [Test]
    public void TQ2_0_packs_four_ternary_codes_per_byte_at_stride_32()
    {
        var b = Block(GgmlType.TQ2_0);
        b[0] = 0b10_01_00_10;
        Half(b, 64, 2f);
        var y = Decode(GgmlType.TQ2_0, b);
        Assert.That((y[0], y[32], y[64], y[96], y[1]), Is.EqualTo((2f, -2f, 0f, 2f, -2f)));
    }

    [Test]
    public void TQ1_0_packs_five_trits_per_byte_as_a_base_three_fraction()
    {
        // Trits 2,0,1,2,1 are 178 in base 3; the byte is ceil(178 · 256 / 243) = 188.
        var b = Block(GgmlType.TQ1_0);
        b[0] = 188;
        Half(b, 52, 1f);
        var y = Decode(GgmlType.TQ1_0, b);
        Assert.That((y[0], y[32], y[64], y[96], y[128]), Is.EqualTo((1f, -1f, 0f, 1f, 0f)));
    }

    [Test]
    public void F16_and_BF16_widen_exactly()
    {
        var h = new byte[2];
        Half(h, 0, 0.333251953125f);
        Assert.That(Decode(GgmlType.F16, h)[0], Is.EqualTo(0.333251953125f));
        Assert.That(Decode(GgmlType.BF16, [0x80, 0x3F])[0], Is.EqualTo(1f));
    }
}
