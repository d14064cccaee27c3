using System.IO.MemoryMappedFiles;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Values;

namespace Codesign.Backends.Cpu.Aot;

/// <summary>Where one buffer of a prepared weight lies in the weight file.</summary>
public sealed record StoredBuffer(string Name, long Offset, long Bytes);

/// <summary>One weight in one <see cref="WeightForm"/>, as the weight file stores it.</summary>
public sealed record StoredWeight(string Key, WeightForm Form, IReadOnlyList<StoredBuffer> Buffers);

/// <summary>
/// An artifact's weight file: every prepared weight buffer the kernels read, back to back, each starting on a
/// <see cref="Alignment"/>-byte boundary, so the loader maps the file and hands the kernels pointers into it with no
/// copy and no decoding. The index (<see cref="StoredWeight"/>) lives in the manifest.
/// </summary>
public static unsafe class WeightFile
{
    public const int Alignment = 64;

    public static IReadOnlyList<StoredWeight> Write(IEnumerable<(string Key, PreparedWeight Weight)> weights, string path)
    {
        var index = new List<StoredWeight>();
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var (key, weight) in weights)
        {
            var buffers = new List<StoredBuffer>();
            foreach (var buffer in weight.Buffers)
            {
                long padding = (Alignment - file.Position % Alignment) % Alignment;
                for (long i = 0; i < padding; i++) file.WriteByte(0);
                buffers.Add(new StoredBuffer(buffer.Name, file.Position, buffer.Bytes));
                for (long done = 0; done < buffer.Bytes;)
                {
                    int chunk = (int)Math.Min(buffer.Bytes - done, 1 << 26);
                    file.Write(new ReadOnlySpan<byte>((byte*)buffer.Address + done, chunk));
                    done += chunk;
                }
            }
            index.Add(new StoredWeight(key, weight.Form, buffers));
        }
        return index;
    }

    /// <summary>
    /// Maps <paramref name="path"/> read-only and binds each indexed weight of <paramref name="graph"/> to it, checking
    /// every buffer's name, size, alignment and bounds against what the graph's weight types say the form needs.
    /// </summary>
    public static PreparedWeights Map(string path, IReadOnlyList<StoredWeight> index, Graph graph)
    {
        var types = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var w in graph.Weights) types.TryAdd(w.WeightKey!, w);
        var mapping = MappedFile.Open(path);
        try
        {
            var bound = new List<(string, PreparedWeight)>();
            foreach (var stored in index)
            {
                if (!types.TryGetValue(stored.Key, out var value))
                    throw new CodesignException($"{path}: weight '{stored.Key}' is not a weight of graph @{graph.Name}");
                PreparedWeight shell;
                try
                {
                    shell = PreparedWeight.Unbound(stored.Form, value.Type);
                }
                catch (ArgumentException e)
                {
                    throw new CodesignException($"{path}: weight '{stored.Key}' of type {value.Type} has no {stored.Form} form: {e.Message}");
                }
                var expected = shell.Buffers;
                if (stored.Buffers.Count != expected.Count)
                    throw new CodesignException($"{path}: weight '{stored.Key}' ({stored.Form}) has {stored.Buffers.Count} buffers, its type {value.Type} needs {expected.Count}");
                var buffers = new WeightBuffer[expected.Count];
                for (int i = 0; i < expected.Count; i++)
                {
                    var (want, have) = (expected[i], stored.Buffers[i]);
                    // A size of -1 depends on the data (kept weights of a sparse matrix): the form checks the contents.
                    if (have.Name != want.Name || (want.Bytes >= 0 ? have.Bytes != want.Bytes : have.Bytes < 0))
                        throw new CodesignException($"{path}: weight '{stored.Key}' ({stored.Form}) buffer {i} is '{have.Name}' of {have.Bytes} bytes, its type {value.Type} needs '{want.Name}' of {(want.Bytes >= 0 ? want.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) : "some")} bytes");
                    if (have.Offset < 0 || have.Offset % Alignment != 0 || have.Offset > mapping.Length - have.Bytes)
                        throw new CodesignException($"{path}: weight '{stored.Key}' buffer '{have.Name}' at offset {have.Offset} ({have.Bytes} bytes) is misaligned or outside the {mapping.Length}-byte file");
                    buffers[i] = new WeightBuffer(have.Name, mapping.Address + (nint)have.Offset, have.Bytes);
                }
                try
                {
                    bound.Add((stored.Key, shell.At(buffers)));
                }
                catch (ArgumentException e)
                {
                    throw new CodesignException($"{path}: weight '{stored.Key}' ({stored.Form}): {e.Message}");
                }
            }
            return PreparedWeights.Prepared(path, mapping, bound);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>A file mapped read-only for as long as the weights that point into it live.</summary>
    private sealed class MappedFile : IDisposable
    {
        private readonly MemoryMappedFile? _file;
        private readonly MemoryMappedViewAccessor? _view;
        private bool _acquired;

        private MappedFile(MemoryMappedFile? file, MemoryMappedViewAccessor? view, long length)
        {
            _file = file;
            _view = view;
            Length = length;
            if (view is null) return;
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _acquired = true;
            Address = (nint)(pointer + view.PointerOffset);
        }

        public nint Address { get; }
        public long Length { get; }

        public static MappedFile Open(string path)
        {
            if (!File.Exists(path)) throw new CodesignException($"{path}: the weight file is missing");
            long length = new FileInfo(path).Length;
            if (length == 0) return new MappedFile(null, null, 0);
            var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            try
            {
                return new MappedFile(file, file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read), length);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (_acquired) _view!.SafeMemoryMappedViewHandle.ReleasePointer();
            _acquired = false;
            _view?.Dispose();
            _file?.Dispose();
        }
    }
}
