using System.Buffers.Binary;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>
/// ggml's block formats decoded to f32 exactly as ggml-quants.c's dequantize_row_* do (same operations in
/// the same order, f16 block scales widened to f32), so values are bit-identical to llama.cpp's.
/// </summary>
public static class GgmlDequantizer
{
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var info = GgmlTypeInfo.Of(type);
        long blocks = dst.Length / info.BlockSize;
        if (dst.Length % info.BlockSize != 0 || src.Length != blocks * info.TypeSize)
            throw new ArgumentException($"{type}: {src.Length} bytes do not hold {dst.Length} values");
        for (int b = 0; b < blocks; b++)
            DequantizeBlock(type, src.Slice(b * info.TypeSize, info.TypeSize), dst.Slice(b * info.BlockSize, info.BlockSize));
    }

    private static float H(ReadOnlySpan<byte> s, int at) => (float)BinaryPrimitives.ReadHalfLittleEndian(s[at..]);

    private static void DequantizeBlock(GgmlType type, ReadOnlySpan<byte> x, Span<float> y)
    {
        switch (type)
        {
            case GgmlType.F32: y[0] = BinaryPrimitives.ReadSingleLittleEndian(x); break;
            case GgmlType.F16: y[0] = H(x, 0); break;
            case GgmlType.BF16: y[0] = FloatConversion.BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(x)); break;
            case GgmlType.F64: y[0] = (float)BinaryPrimitives.ReadDoubleLittleEndian(x); break;
            case GgmlType.I8: y[0] = (sbyte)x[0]; break;
            case GgmlType.I16: y[0] = BinaryPrimitives.ReadInt16LittleEndian(x); break;
            case GgmlType.I32: y[0] = BinaryPrimitives.ReadInt32LittleEndian(x); break;
            case GgmlType.I64: y[0] = BinaryPrimitives.ReadInt64LittleEndian(x); break;
            case GgmlType.Q4_0:
            {
                float d = H(x, 0);
                var qs = x[2..];
                for (int j = 0; j < 16; j++)
                {
                    y[j] = ((qs[j] & 0x0F) - 8) * d;
                    y[j + 16] = ((qs[j] >> 4) - 8) * d;
                }
                break;
            }
            case GgmlType.Q4_1:
            {
                float d = H(x, 0), m = H(x, 2);
                var qs = x[4..];
                for (int j = 0; j < 16; j++)
                {
                    y[j] = (qs[j] & 0x0F) * d + m;
                    y[j + 16] = (qs[j] >> 4) * d + m;
                }
                break;
            }
            case GgmlType.Q5_0:
            {
                float d = H(x, 0);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[2..]);
                var qs = x[6..];
                for (int j = 0; j < 16; j++)
                {
                    int xh0 = (int)(((qh >> j) << 4) & 0x10), xh1 = (int)((qh >> (j + 12)) & 0x10);
                    y[j] = (((qs[j] & 0x0F) | xh0) - 16) * d;
                    y[j + 16] = (((qs[j] >> 4) | xh1) - 16) * d;
                }
                break;
            }
            case GgmlType.Q5_1:
            {
                float d = H(x, 0), m = H(x, 2);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[4..]);
                var qs = x[8..];
                for (int j = 0; j < 16; j++)
                {
                    int xh0 = (int)(((qh >> j) << 4) & 0x10), xh1 = (int)((qh >> (j + 12)) & 0x10);
                    y[j] = ((qs[j] & 0x0F) | xh0) * d + m;
                    y[j + 16] = ((qs[j] >> 4) | xh1) * d + m;
                }
                break;
            }
            case GgmlType.Q8_0:
            {
                float d = H(x, 0);
                for (int j = 0; j < 32; j++) y[j] = (sbyte)x[2 + j] * d;
                break;
            }
            case GgmlType.Q8_1:
            {
                float d = H(x, 0);
                for (int j = 0; j < 32; j++) y[j] = (sbyte)x[4 + j] * d;
                break;
            }
            case GgmlType.Q2_K: Q2K(x, y); break;
            case GgmlType.Q3_K: Q3K(x, y); break;
            case GgmlType.Q4_K: Q4K(x, y); break;
            case GgmlType.Q5_K: Q5K(x, y); break;
            case GgmlType.Q6_K: Q6K(x, y); break;
            case GgmlType.Q8_K:
            {
                float d = BinaryPrimitives.ReadSingleLittleEndian(x);
                for (int j = 0; j < 256; j++) y[j] = d * (sbyte)x[4 + j];
                break;
            }
            case GgmlType.TQ1_0: TQ10(x, y); break;
            case GgmlType.TQ2_0:
            {
                float d = H(x, 64);
                int o = 0;
                for (int j = 0; j < 64; j += 32)
                    for (int l = 0; l < 4; l++)
                        for (int m = 0; m < 32; m++) y[o++] = (((x[j + m] >> (l * 2)) & 3) - 1) * d;
                break;
            }
            default: throw new NotSupportedException($"dequantization of {type}");
        }
    }

    // block_q2_K: scales[16], qs[64], d, dmin
    private static void Q2K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var scales = x[..16];
        var q = x.Slice(16, 64);
        float d = H(x, 80), min = H(x, 82);
        int o = 0, isc = 0;
        for (int n = 0; n < 256; n += 128)
        {
            int shift = 0;
            for (int j = 0; j < 4; j++)
            {
                int sc = scales[isc++];
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) y[o++] = dl * ((q[l] >> shift) & 3) - ml;
                sc = scales[isc++];
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) y[o++] = dl * ((q[l + 16] >> shift) & 3) - ml;
                shift += 2;
            }
            q = q[32..];
        }
    }

    // block_q3_K: hmask[32], qs[64], scales[12], d
    private static void Q3K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var hm = x[..32];
        var q = x.Slice(32, 64);
        float dAll = H(x, 108);
        Span<uint> aux = stackalloc uint[4];
        for (int i = 0; i < 3; i++) aux[i] = BinaryPrimitives.ReadUInt32LittleEndian(x[(96 + 4 * i)..]);
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        uint tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        Span<sbyte> scales = stackalloc sbyte[16];
        for (int i = 0; i < 16; i++) scales[i] = (sbyte)(aux[i / 4] >> (8 * (i % 4)));
        int o = 0, isc = 0;
        byte m = 1;
        for (int n = 0; n < 256; n += 128)
        {
            int shift = 0;
            for (int j = 0; j < 4; j++)
            {
                float dl = dAll * (scales[isc++] - 32);
                for (int l = 0; l < 16; l++) y[o++] = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                dl = dAll * (scales[isc++] - 32);
                for (int l = 0; l < 16; l++) y[o++] = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) != 0 ? 0 : 4));
                shift += 2;
                m <<= 1;
            }
            q = q[32..];
        }
    }

    private static (int Scale, int Min) ScaleMinK4(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    // block_q4_K: d, dmin, scales[12], qs[128]
    private static void Q4K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = H(x, 0), min = H(x, 2);
        var scales = x.Slice(4, 12);
        var q = x.Slice(16, 128);
        int o = 0, isc = 0;
        for (int j = 0; j < 256; j += 64)
        {
            var (sc1, m1) = ScaleMinK4(isc, scales);
            var (sc2, m2) = ScaleMinK4(isc + 1, scales);
            float d1 = d * sc1, mm1 = min * m1, d2 = d * sc2, mm2 = min * m2;
            for (int l = 0; l < 32; l++) y[o++] = d1 * (q[l] & 0xF) - mm1;
            for (int l = 0; l < 32; l++) y[o++] = d2 * (q[l] >> 4) - mm2;
            q = q[32..];
            isc += 2;
        }
    }

    // block_q5_K: d, dmin, scales[12], qh[32], qs[128]
    private static void Q5K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = H(x, 0), min = H(x, 2);
        var scales = x.Slice(4, 12);
        var qh = x.Slice(16, 32);
        var ql = x.Slice(48, 128);
        int o = 0, isc = 0;
        int u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64)
        {
            var (sc1, m1) = ScaleMinK4(isc, scales);
            var (sc2, m2) = ScaleMinK4(isc + 1, scales);
            float d1 = d * sc1, mm1 = min * m1, d2 = d * sc2, mm2 = min * m2;
            for (int l = 0; l < 32; l++) y[o++] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - mm1;
            for (int l = 0; l < 32; l++) y[o++] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - mm2;
            ql = ql[32..];
            isc += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    // block_q6_K: ql[128], qh[64], scales[16] (int8), d
    private static void Q6K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = H(x, 208);
        var ql = x[..128];
        var qh = x.Slice(128, 64);
        var sc = x.Slice(192, 16);
        int o = 0;
        for (int n = 0; n < 256; n += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int isc = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[o + l] = d * (sbyte)sc[isc] * q1;
                y[o + l + 32] = d * (sbyte)sc[isc + 2] * q2;
                y[o + l + 64] = d * (sbyte)sc[isc + 4] * q3;
                y[o + l + 96] = d * (sbyte)sc[isc + 6] * q4;
            }
            o += 128;
            ql = ql[64..];
            qh = qh[32..];
            sc = sc[8..];
        }
    }

    private static readonly byte[] Pow3 = [1, 3, 9, 27, 81, 243];

    /// <summary>Trit n (0..4) of a TQ1_0 byte: the byte is a base-3 fixed-point fraction, so multiply by 3^n and take the top trit.</summary>
    internal static int Trit(byte packed, int n) => ((byte)(packed * Pow3[n]) * 3) >> 8;

    // block_tq1_0: qs[48] (5 trits per byte), qh[4] (4 trits per byte), d
    private static void TQ10(ReadOnlySpan<byte> x, Span<float> y)
    {
        var qs = x[..48];
        var qh = x.Slice(48, 4);
        float d = H(x, 52);
        int o = 0;
        for (int n = 0; n < 5; n++)
            for (int m = 0; m < 32; m++) y[o++] = (Trit(qs[m], n) - 1) * d;
        for (int n = 0; n < 5; n++)
            for (int m = 0; m < 16; m++) y[o++] = (Trit(qs[32 + m], n) - 1) * d;
        for (int n = 0; n < 4; n++)
            for (int j = 0; j < 4; j++) y[o++] = (Trit(qh[j], n) - 1) * d;
    }
}
