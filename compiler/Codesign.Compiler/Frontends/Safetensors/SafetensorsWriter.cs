using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Codesign.Compiler.Frontends.Safetensors;

/// <summary>One tensor to write: safetensors dtype name, shape and raw little-endian bytes.</summary>
public sealed record SafetensorsTensor(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Data);

/// <summary>Writes safetensors files (header padded with spaces to 8 bytes, tensors in the given order).</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                if (!SafetensorsDType.TryGetSize(t.DType, out int size))
                    throw new ArgumentException($"tensor '{t.Name}': unknown dtype {t.DType}");
                long expected = t.Shape.Aggregate(1L, (a, d) => checked(a * d)) * size;
                if (expected != t.Data.Length)
                    throw new ArgumentException($"tensor '{t.Name}': {t.Data.Length} bytes given, {t.DType} [{string.Join(", ", t.Shape)}] needs {expected}");
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (long d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        var header = json.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
        file.Write(len);
        file.Write(header.ToArray());
        foreach (var t in list) file.Write(t.Data.Span);
    }

    public static SafetensorsTensor Float32(string name, long[] shape, float[] data) =>
        new(name, "F32", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
}
