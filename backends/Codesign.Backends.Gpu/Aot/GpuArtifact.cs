using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Weights;

namespace Codesign.Backends.Gpu.Aot;

/// <summary>One weight in the gpu's weight file: its bytes as the IR packs them, at a 64-byte aligned offset.</summary>
public sealed record GpuStoredWeight(string Key, long Offset, long Bytes);

/// <summary>The gpu's part of an artifact manifest: the weight file and its index, and the kernels each op lowers to.</summary>
public sealed record GpuArtifactSection(string WeightsFile, IReadOnlyList<GpuStoredWeight> Weights, IReadOnlyList<string> Kernels);

/// <summary>
/// The gpu's files in an artifact directory. ILGPU compiles kernels when they are loaded (PTX for the device found then),
/// so the artifact carries the graph, the weights in the IR's packed forms (uploaded once at load, in the layouts the
/// kernels read) and a description of the kernels the graph lowers to.
/// </summary>
public static class GpuArtifact
{
    public const string Folder = "gpu";
    private const int Alignment = 64;

    /// <param name="folder">Where in the artifact the files go (each gpu segment of a placed artifact has its own).</param>
    public static GpuArtifactSection Write(Graph graph, IWeightStore store, string directory, string folder = Folder)
    {
        var kernels = graph.Nodes.Select(GpuNodeLowering.Describe).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = new List<GpuStoredWeight>();
        string weightsFile = $"{folder}/weights.bin";
        string path = Path.Combine(directory, weightsFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        foreach (var weight in graph.Weights)
        {
            var t = IR.Semantics.GraphBinding.Weight(weight, store);
            long offset = (file.Position + Alignment - 1) / Alignment * Alignment;
            file.Write(new byte[offset - file.Position]);
            file.Write(t.Data.Span);
            index.Add(new GpuStoredWeight(t.Key, offset, t.Data.Length));
        }
        return new GpuArtifactSection(weightsFile, index, kernels);
    }

    /// <summary>
    /// Reads the weights named by <paramref name="section"/> (each checked: listed once, inside the file, aligned, and the
    /// graph's) and compiles the graph on <paramref name="device"/>; packed weights are decoded and checked at upload.
    /// </summary>
    public static GpuProgram Load(string directory, GpuArtifactSection section, Graph graph, GpuDevice device, bool ownsDevice = false)
    {
        string path = Path.Combine(directory, section.WeightsFile);
        var declared = graph.Weights.ToDictionary(w => w.WeightKey!, StringComparer.Ordinal);
        var store = new LayeredWeightStore();
        using (var file = File.OpenHandle(path))
        {
            long length = RandomAccess.GetLength(file);
            foreach (var w in section.Weights)
            {
                if (!declared.TryGetValue(w.Key, out var value))
                    throw new CodesignException($"{path}: weight '{w.Key}' is not a weight of the graph");
                if (store.Contains(w.Key)) throw new CodesignException($"{path}: weight '{w.Key}' is listed twice");
                if (w.Offset < 0 || w.Bytes < 0 || w.Offset % Alignment != 0 || w.Offset > length - w.Bytes || w.Bytes > Array.MaxLength)
                    throw new CodesignException($"{path}: weight '{w.Key}' at offset {w.Offset}, {w.Bytes} bytes, is not an aligned range of the {length}-byte file");
                long elements = value.Type.Shape.Aggregate(1L, (a, d) => a * d.Size);
                if (!value.Type.DType.IsPacked && w.Bytes != elements * value.Type.DType.ByteSize)
                    throw new CodesignException($"{path}: weight '{w.Key}' is {value.Type}, {elements * value.Type.DType.ByteSize} bytes, but the index gives {w.Bytes}");
                var bytes = GC.AllocateUninitializedArray<byte>((int)w.Bytes);
                if (RandomAccess.Read(file, bytes, w.Offset) != bytes.Length) throw new CodesignException($"{path}: weight '{w.Key}' is truncated");
                store.Set(new WeightTensor(w.Key, value.Type.DType, [.. value.Type.Shape.Select(d => d.Size)], bytes));
            }
        }
        foreach (var key in declared.Keys)
            if (!store.Contains(key)) throw new CodesignException($"{path}: the graph's weight '{key}' is not in the artifact");
        return GpuProgram.Compile(graph, store, device, ownsDevice);
    }
}
