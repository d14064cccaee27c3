using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using Codesign.Compiler.Frontends.Safetensors;

namespace Codesign.Compiler.Frontends.Gguf;

/// <summary>One tensor of a GGUF file: ggml dims (ne[0] fastest, i.e. [K, N] for a weight [N, K]), type, and data range.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgmlType Type, long Offset, long Bytes)
{
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// A GGUF file (llama.cpp's format, versions 2 and 3, little-endian), memory-mapped. The header — magic,
/// version, counts, metadata and tensor infos — is parsed with every length and count checked against the
/// bytes that remain, so a hostile file cannot make us allocate more than it could hold; tensor offsets must
/// be aligned (<c>general.alignment</c>, default 32) and lie inside the file.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" read little-endian
    public const int DefaultAlignment = 32;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _length;
    private readonly Dictionary<string, GgufTensorInfo> _tensors;

    private GgufFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr, long length,
        uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataStart, int alignment)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _length = length;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        _tensors = tensors.ToDictionary(t => t.Name);
        DataStart = dataStart;
        Alignment = alignment;
    }

    public string Path { get; }
    public uint Version { get; }
    /// <summary>Values are long, ulong, double, bool, string, or arrays of those (object[]).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public long DataStart { get; }
    public int Alignment { get; }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public GgufTensorInfo Tensor(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new ModelFormatException(Path, "not in the file", name);

    public ReadOnlyMemory<byte> Bytes(GgufTensorInfo t) =>
        new UnmanagedMemoryManager(_base + DataStart + t.Offset, checked((int)t.Bytes)).Memory;

    public static GgufFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        long length = new FileInfo(path).Length;
        if (length < 24) throw new ModelFormatException(path, $"truncated: {length} bytes cannot hold a GGUF header");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        try
        {
            return Parse(path, map, view, basePtr, length);
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static GgufFile Parse(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long length)
    {
        var r = new Reader(path, new ReadOnlySpan<byte>(basePtr, checked((int)Math.Min(length, int.MaxValue))), length);
        uint magic = r.U32("magic");
        if (magic != Magic) throw new ModelFormatException(path, $"bad magic 0x{magic:X8}: not a GGUF file");
        uint version = r.U32("version");
        if (version is not (2 or 3)) throw new ModelFormatException(path, $"GGUF version {version} is not supported (2 or 3)");
        long tensorCount = r.Count("tensor count", 8 + 4 + 8 + 4 + 8);
        long kvCount = r.Count("metadata count", 8 + 4 + 1);
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string key = r.String("metadata key");
            uint type = r.U32($"type of '{key}'");
            var value = r.Value(type, key, depth: 0);
            if (!metadata.TryAdd(key, value)) throw new ModelFormatException(path, $"metadata key '{key}' appears twice");
        }
        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var a))
        {
            if (a is not long al || al <= 0 || al > 1 << 20 || (al & (al - 1)) != 0)
                throw new ModelFormatException(path, $"general.alignment must be a power of two, found {a}");
            alignment = (int)al;
        }
        var infos = new List<(string Name, long[] Dims, GgmlType Type, long Offset, long Bytes)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = r.String("tensor name");
            if (!names.Add(name)) throw new ModelFormatException(path, "appears twice", name);
            uint nDims = r.U32($"dims of '{name}'");
            if (nDims is < 1 or > 4) throw new ModelFormatException(path, $"has {nDims} dimensions (1 to 4)", name);
            var dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                ulong dim = r.U64($"dimension {d} of '{name}'");
                if (dim is 0 or > (ulong)long.MaxValue) throw new ModelFormatException(path, $"dimension {d} is {dim}", name);
                dims[d] = (long)dim;
                if (elements > long.MaxValue / dims[d] || elements * dims[d] > length * 8)
                    throw new ModelFormatException(path, $"shape [{string.Join(", ", dims.Take(d + 1))}] holds more elements than the file could", name);
                elements *= dims[d];
            }
            uint typeId = r.U32($"type of '{name}'");
            if (!GgmlTypeInfo.TryGet(typeId, out var info))
                throw new ModelFormatException(path, $"ggml type {typeId} is not supported", name);
            if (dims[0] % info.BlockSize != 0)
                throw new ModelFormatException(path, $"row length {dims[0]} is not a multiple of {info.Type}'s block of {info.BlockSize}", name);
            ulong offset = r.U64($"offset of '{name}'");
            if (offset % (ulong)alignment != 0)
                throw new ModelFormatException(path, $"data offset {offset} is not aligned to {alignment}", name);
            infos.Add((name, dims, info.Type, (long)Math.Min(offset, long.MaxValue), info.RowBytes(dims[0]) * (elements / dims[0])));
        }
        long dataStart = (r.Position + alignment - 1) / alignment * alignment;
        var tensors = new List<GgufTensorInfo>();
        foreach (var t in infos)
        {
            if (t.Offset > length - dataStart || t.Bytes > length - dataStart - t.Offset)
                throw new ModelFormatException(path, $"data [{t.Offset}, {t.Offset + t.Bytes}) lies past the end of the file ({length - dataStart} data bytes)", t.Name);
            if (t.Bytes > int.MaxValue) throw new ModelFormatException(path, $"{t.Bytes} bytes is more than one tensor may hold here", t.Name);
            tensors.Add(new GgufTensorInfo(t.Name, t.Dims, t.Type, t.Offset, t.Bytes));
        }
        return new GgufFile(path, map, view, basePtr, length, version, metadata, tensors, dataStart, alignment);
    }

    public void Dispose()
    {
        if (_view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map!.Dispose();
    }

    /// <summary>Bounds-checked little-endian cursor over the header.</summary>
    private ref struct Reader(string path, ReadOnlySpan<byte> bytes, long fileLength)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        public long Position;

        private ReadOnlySpan<byte> Take(long n, string what)
        {
            if (n < 0 || n > _bytes.Length - Position)
                throw new ModelFormatException(path, $"truncated at byte {Position} while reading {what} ({n} bytes needed, file is {fileLength})");
            var s = _bytes.Slice((int)Position, (int)n);
            Position += n;
            return s;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

        /// <summary>A count of items each at least <paramref name="minItemBytes"/> long: more than the rest of the file could hold is an error.</summary>
        public long Count(string what, long minItemBytes)
        {
            ulong n = U64(what);
            if (n > (ulong)((_bytes.Length - Position) / minItemBytes))
                throw new ModelFormatException(path, $"{what} {n} is more than the {_bytes.Length - Position} remaining bytes could hold");
            return (long)n;
        }

        public string String(string what)
        {
            ulong n = U64($"length of {what}");
            if (n > (ulong)(_bytes.Length - Position))
                throw new ModelFormatException(path, $"{what} at byte {Position - 8} claims {n} bytes, past the end of the file");
            return Encoding.UTF8.GetString(Take((long)n, what));
        }

        public object Value(uint type, string key, int depth) => type switch
        {
            0 => (long)Take(1, key)[0],
            1 => (long)(sbyte)Take(1, key)[0],
            2 => (long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2, key)),
            3 => (long)BinaryPrimitives.ReadInt16LittleEndian(Take(2, key)),
            4 => (long)U32(key),
            5 => (long)BinaryPrimitives.ReadInt32LittleEndian(Take(4, key)),
            // f32 metadata (rms epsilon, rope base) reads as the shortest decimal that round-trips the float: 1e-5, not 9.99999974737875E-06.
            6 => double.Parse(BinaryPrimitives.ReadSingleLittleEndian(Take(4, key)).ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture),
            7 => Take(1, key)[0] switch { 0 => false, 1 => true, var b => throw new ModelFormatException(path, $"'{key}': bool byte {b}") },
            8 => String(key),
            9 => Array(key, depth),
            10 => U64(key) is var u && u <= long.MaxValue ? (long)u : (object)u,
            11 => BinaryPrimitives.ReadInt64LittleEndian(Take(8, key)),
            12 => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, key)),
            _ => throw new ModelFormatException(path, $"'{key}': unknown metadata value type {type}"),
        };

        private object[] Array(string key, int depth)
        {
            if (depth > 2) throw new ModelFormatException(path, $"'{key}': arrays nested too deeply");
            uint elementType = U32($"element type of '{key}'");
            long min = elementType switch { 0 or 1 or 7 => 1, 2 or 3 => 2, 4 or 5 or 6 => 4, 8 or 10 or 11 or 12 => 8, 9 => 12, _ => 1 };
            long n = Count($"'{key}' element count", min);
            var items = new object[n];
            for (long i = 0; i < n; i++) items[i] = Value(elementType, key, depth + 1);
            return items;
        }
    }
}
