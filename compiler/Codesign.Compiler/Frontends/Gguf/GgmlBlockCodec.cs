using System.Buffers.Binary;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>
/// The ggml block types whose values are exactly a QuantScheme of ours: Q8_0 = int8 g32 sym f16,
/// Q4_0 = int4 g32 sym f16, Q5_0 = int5 g32 sym f16, TQ1_0 and TQ2_0 = ternary g256 f16 (value = d·(q − zero)
/// in every case). Converting between the two layouts moves codes, never values.
/// </summary>
public static class GgmlBlockCodec
{
    public static QuantScheme? SchemeOf(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => QuantScheme.Create(8, 32, true, DType.F16),
        GgmlType.Q4_0 => QuantScheme.Create(4, 32, true, DType.F16),
        GgmlType.Q5_0 => QuantScheme.Create(5, 32, true, DType.F16),
        GgmlType.TQ1_0 or GgmlType.TQ2_0 => QuantScheme.Create(2, 256, true, DType.F16, ternary: true),
        _ => null,
    };

    /// <summary>The ggml type that stores <paramref name="scheme"/> exactly and that we can write (TQ1_0 is read only).</summary>
    public static GgmlType? TypeOf(QuantScheme scheme) => scheme switch
    {
        { Ternary: true, GroupSize: 256, ScaleType.Kind: DTypeKind.F16 } => GgmlType.TQ2_0,
        { Ternary: false, Symmetric: true, GroupSize: 32, ScaleType.Kind: DTypeKind.F16, Bits: 8 } => GgmlType.Q8_0,
        { Ternary: false, Symmetric: true, GroupSize: 32, ScaleType.Kind: DTypeKind.F16, Bits: 4 } => GgmlType.Q4_0,
        { Ternary: false, Symmetric: true, GroupSize: 32, ScaleType.Kind: DTypeKind.F16, Bits: 5 } => GgmlType.Q5_0,
        _ => null,
    };

    /// <summary>
    /// Codes and scales of ggml blocks, or null when some block does not fit the scheme (a TQ2_0 code 3, a
    /// non-finite scale): the caller then dequantizes instead. Recovered exactly: d·(code − zero) must reproduce
    /// ggml's value bit for bit.
    /// </summary>
    public static QuantizedMatrix? ToQuantized(GgmlType type, ReadOnlySpan<byte> data, int rows, int cols)
    {
        var scheme = SchemeOf(type) ?? throw new ArgumentException($"{type} has no matching scheme");
        var info = GgmlTypeInfo.Of(type);
        int blocksPerRow = cols / info.BlockSize, zero = scheme.ImplicitZero;
        var codes = new byte[(long)rows * cols];
        var scales = new float[(long)rows * blocksPerRow];
        var values = new float[info.BlockSize];
        for (long b = 0; b < (long)rows * blocksPerRow; b++)
        {
            var block = data.Slice((int)(b * info.TypeSize), info.TypeSize);
            GgmlDequantizer.Dequantize(type, block, values);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[ScaleOffset(type)..]);
            if (!float.IsFinite(d)) return null;
            scales[b] = d;
            for (int i = 0; i < values.Length; i++)
            {
                int code = d == 0f ? zero : (int)MathF.Round(values[i] / d) + zero;
                if (code < 0 || code > scheme.MaxCode || d * (code - zero) != values[i]) return null;
                codes[b * info.BlockSize + i] = (byte)code;
            }
        }
        return new QuantizedMatrix(scheme, rows, cols, codes, scales, null);
    }

    private static int ScaleOffset(GgmlType type) => type switch
    {
        GgmlType.TQ2_0 => 64,
        GgmlType.TQ1_0 => 52,
        _ => 0,
    };

    public static byte[] FromQuantized(GgmlType type, QuantizedMatrix m)
    {
        var info = GgmlTypeInfo.Of(type);
        if (m.Cols % info.BlockSize != 0) throw new ArgumentException($"{type} needs rows of a multiple of {info.BlockSize}, not {m.Cols}");
        long blocks = (long)m.Rows * m.Cols / info.BlockSize;
        var bytes = new byte[blocks * info.TypeSize];
        for (long b = 0; b < blocks; b++)
        {
            var y = bytes.AsSpan((int)(b * info.TypeSize), info.TypeSize);
            var c = m.Codes.AsSpan((int)(b * info.BlockSize), info.BlockSize);
            BinaryPrimitives.WriteHalfLittleEndian(y[ScaleOffset(type)..], (Half)m.Scales[b]);
            switch (type)
            {
                case GgmlType.Q8_0:
                    for (int j = 0; j < 32; j++) y[2 + j] = (byte)(sbyte)(c[j] - 128);
                    break;
                case GgmlType.Q4_0:
                    for (int j = 0; j < 16; j++) y[2 + j] = (byte)(c[j] | (c[j + 16] << 4));
                    break;
                case GgmlType.Q5_0:
                {
                    uint qh = 0;
                    for (int j = 0; j < 16; j++)
                    {
                        y[6 + j] = (byte)((c[j] & 0xF) | ((c[j + 16] & 0xF) << 4));
                        qh |= (uint)((c[j] >> 4) & 1) << j;
                        qh |= (uint)((c[j + 16] >> 4) & 1) << (j + 16);
                    }
                    BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
                    break;
                }
                case GgmlType.TQ2_0:
                    for (int j = 0; j < 64; j += 32)
                        for (int l = 0; l < 4; l++)
                            for (int mm = 0; mm < 32; mm++) y[j + mm] |= (byte)(c[j * 4 + l * 32 + mm] << (2 * l));
                    break;
                default:
                    throw new ArgumentException($"cannot write {type} from our codes");
            }
        }
        return bytes;
    }
}
