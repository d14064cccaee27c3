using System.Buffers.Binary;
using Codesign.IR.Types;
using Codesign.IR.Weights;

namespace Codesign.IR.Quantization;

/// <summary>Floats stored as f32, f16 or bf16, little-endian (scales, sparse values); in memory they are f32 holding exactly the stored value.</summary>
public static class FloatStorage
{
    /// <summary>The nearest value the storage dtype holds: quantizers and pruners round here so stored and used values agree.</summary>
    public static float Round(float value, DType type) => type.Kind switch
    {
        DTypeKind.F32 => value,
        DTypeKind.F16 => (float)(Half)value,
        DTypeKind.BF16 => FloatConversion.BFloat16ToSingle(FloatConversion.SingleToBFloat16(value)),
        _ => throw new ArgumentException($"stored floats are f32, f16 or bf16, not {type}"),
    };

    public static void Write(Span<byte> dest, ReadOnlySpan<float> scales, DType type)
    {
        int size = type.ByteSize;
        for (int i = 0; i < scales.Length; i++)
        {
            var d = dest.Slice(i * size, size);
            switch (type.Kind)
            {
                case DTypeKind.F32: BinaryPrimitives.WriteSingleLittleEndian(d, scales[i]); break;
                case DTypeKind.F16: BinaryPrimitives.WriteHalfLittleEndian(d, (Half)scales[i]); break;
                default: BinaryPrimitives.WriteUInt16LittleEndian(d, FloatConversion.SingleToBFloat16(scales[i])); break;
            }
        }
    }

    public static void Read(ReadOnlySpan<byte> src, Span<float> scales, DType type)
    {
        int size = type.ByteSize;
        for (int i = 0; i < scales.Length; i++)
        {
            var s = src.Slice(i * size, size);
            scales[i] = type.Kind switch
            {
                DTypeKind.F32 => BinaryPrimitives.ReadSingleLittleEndian(s),
                DTypeKind.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(s),
                _ => FloatConversion.BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s)),
            };
        }
    }
}
