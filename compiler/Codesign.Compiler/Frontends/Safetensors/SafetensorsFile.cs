using System.IO.MemoryMappedFiles;
using System.Text.Json;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.Safetensors;

/// <summary>One entry of a safetensors header, validated against the file.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// A safetensors file (8-byte little-endian header length, JSON header, raw data), memory-mapped.
/// Every header field is checked against the file before anything is read or allocated: a length,
/// offset or shape that does not fit is a <see cref="ModelFormatException"/> naming the tensor.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Headers are metadata; anything larger than this is not a real header.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long dataStart,
        Dictionary<string, SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        _entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<SafetensorsEntry> Entries => _entries.Values;
    public bool Contains(string name) => _entries.ContainsKey(name);

    public static SafetensorsFile Open(string path)
    {
        long fileLength;
        try
        {
            fileLength = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open: {e.Message}", inner: e);
        }
        if (!File.Exists(path))
            throw new ModelFormatException(path, "file not found");
        if (fileLength < 8)
            throw new ModelFormatException(path, $"truncated: {fileLength} bytes, shorter than the 8-byte header length");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        basePtr += view.PointerOffset;
        try
        {
            ulong headerLength = *(ulong*)basePtr;
            if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
                throw new ModelFormatException(path, $"header length {headerLength} does not fit in a file of {fileLength} bytes");
            long dataStart = 8 + (long)headerLength;
            long dataLength = fileLength - dataStart;
            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            var (entries, metadata) = ParseHeader(path, header, dataLength);
            return new SafetensorsFile(path, map, view, basePtr, dataStart, entries, metadata);
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"header is not valid JSON: {e.Message}", inner: e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, "header is not a JSON object");
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new ModelFormatException(path, "__metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                var entry = ParseEntry(path, prop.Name, prop.Value, dataLength);
                if (!entries.TryAdd(entry.Name, entry))
                    throw new ModelFormatException(path, "listed twice in the header", prop.Name);
            }
            return (entries, metadata);
        }
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "header entry is not an object", name);
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, "missing dtype", name);
        string dtype = dt.GetString()!;
        if (!SafetensorsDType.TryGetSize(dtype, out int elementSize))
            throw new ModelFormatException(path, $"unknown dtype '{dtype}'", name);
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, "missing shape", name);
        var shape = new long[sh.GetArrayLength()];
        long elements = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0)
                throw new ModelFormatException(path, $"shape entry {d.GetRawText()} is not a non-negative integer", name);
            shape[i++] = size;
            if (size != 0 && elements > dataLength / size)
                throw new ModelFormatException(path, $"shape [{string.Join(", ", sh.EnumerateArray().Select(x => x.GetRawText()))}] is larger than the file's {dataLength} data bytes", name);
            elements *= size;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new ModelFormatException(path, "data_offsets must be [begin, end]", name);
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end))
            throw new ModelFormatException(path, "data_offsets are not integers", name);
        if (begin < 0 || end < begin || end > dataLength)
            throw new ModelFormatException(path, $"data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes", name);
        long expected = elements > long.MaxValue / elementSize
            ? throw new ModelFormatException(path, "size overflows", name)
            : elements * elementSize;
        if (end - begin != expected)
            throw new ModelFormatException(path, $"data_offsets span {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {expected}", name);
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    public SafetensorsEntry Entry(string name) =>
        _entries.TryGetValue(name, out var entry) ? entry : throw new ModelFormatException(Path, "not in this file", name);

    /// <summary>The tensor's bytes, straight from the mapping (no copy).</summary>
    public ReadOnlyMemory<byte> Bytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entry = Entry(name);
        long length = entry.End - entry.Begin;
        if (length > int.MaxValue)
            throw new ModelFormatException(Path, $"{length} bytes: tensors over 2 GiB are not supported", name);
        return new UnmanagedMemoryManager(_base + _dataStart + entry.Begin, (int)length).Memory;
    }

    public WeightTensor Tensor(string name)
    {
        var entry = Entry(name);
        var dtype = SafetensorsDType.ToDType(entry.DType)
            ?? throw new ModelFormatException(Path, $"dtype {entry.DType} cannot be used as a weight", name);
        return new WeightTensor(name, dtype, entry.Shape, Bytes(name));
    }

    public long[] ReadInt64(string name)
    {
        var entry = Entry(name);
        if (entry.DType != "I64")
            throw new ModelFormatException(Path, $"expected I64, found {entry.DType}", name);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(Bytes(name).Span).ToArray();
    }

    public float[] ReadFloat32(string name) => FloatConversion.ToFloat32(Tensor(name)).ToArray();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view!.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map!.Dispose();
    }
}
