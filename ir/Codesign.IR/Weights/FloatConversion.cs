using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Codesign.IR.Types;

namespace Codesign.IR.Weights;

/// <summary>Conversions between the float storage dtypes and f32, bit-exact with IEEE/bfloat16 rounding.</summary>
public static class FloatConversion
{
    /// <summary>The tensor as f32: a view without copying when it is stored as f32, else a converted copy.</summary>
    public static ReadOnlyMemory<float> ToFloat32(WeightTensor tensor)
    {
        long n = tensor.ElementCount;
        switch (tensor.DType.Kind)
        {
            case DTypeKind.F32:
                return new ByteReinterpretingMemoryManager<float>(tensor.Data).Memory;
            case DTypeKind.F16:
            {
                var src = MemoryMarshal.Cast<byte, Half>(tensor.Data.Span);
                var dst = new float[n];
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)src[i];
                return dst;
            }
            case DTypeKind.BF16:
            {
                var src = tensor.Data.Span;
                var dst = new float[n];
                for (int i = 0; i < dst.Length; i++) dst[i] = BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
                return dst;
            }
            default:
                throw new NotSupportedException($"weight '{tensor.Key}' has dtype {tensor.DType}, which is not a float type");
        }
    }

    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round-to-nearest-even truncation of f32 to bfloat16; NaN stays NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
