using System.Text;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>One tensor to write: GGUF name, ggml dims (ne[0] fastest), type and its encoded bytes.</summary>
public sealed record GgufTensor(string Name, long[] Dims, GgmlType Type, ReadOnlyMemory<byte> Data);

/// <summary>
/// Writes GGUF version 3 (little-endian): header, metadata in the given order, tensor infos, then tensor
/// data each aligned to <c>general.alignment</c> (32), exactly as gguf.c lays a file out.
/// Metadata values: string, bool, int (u32), long (i64), uint (u32), float (f32), double (f64), string[], float[], int[] (i32).
/// </summary>
public static class GgufWriter
{
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, object>> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        int alignment = metadata.FirstOrDefault(kv => kv.Key == "general.alignment").Value is uint a ? (int)a : GgufFile.DefaultAlignment;
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            WriteValue(w, value, key);
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (long d in t.Dims) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = Align(offset + t.Data.Length, alignment);
        }
        Pad(w, alignment);
        long start = stream.Position;
        foreach (var t in tensors)
        {
            w.Write(t.Data.Span);
            Pad(w, alignment, start);
        }
    }

    private static long Align(long v, int a) => (v + a - 1) / a * a;

    private static void Pad(BinaryWriter w, int alignment, long origin = 0)
    {
        long pos = w.BaseStream.Position - origin;
        for (long i = pos; i < Align(pos, alignment); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, object value, string key)
    {
        switch (value)
        {
            case uint u: w.Write(4u); w.Write(u); break;
            case int i: w.Write(5u); w.Write(i); break;
            case float f: w.Write(6u); w.Write(f); break;
            case bool b: w.Write(7u); w.Write(b ? (byte)1 : (byte)0); break;
            case string s: w.Write(8u); WriteString(w, s); break;
            case long l: w.Write(11u); w.Write(l); break;
            case double d: w.Write(12u); w.Write(d); break;
            case string[] ss:
                w.Write(9u); w.Write(8u); w.Write((ulong)ss.Length);
                foreach (var s in ss) WriteString(w, s);
                break;
            case float[] fs:
                w.Write(9u); w.Write(6u); w.Write((ulong)fs.Length);
                foreach (var f in fs) w.Write(f);
                break;
            case int[] ins:
                w.Write(9u); w.Write(5u); w.Write((ulong)ins.Length);
                foreach (var i in ins) w.Write(i);
                break;
            default: throw new ArgumentException($"metadata '{key}': cannot write {value.GetType().Name}");
        }
    }
}
