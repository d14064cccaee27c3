using System.Text.Json;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Weights;

namespace Codesign.Compiler.Frontends.HuggingFace;

/// <summary>
/// The weights of a checkpoint directory: <c>model.safetensors</c>, or the shards listed by
/// <c>model.safetensors.index.json</c>. All files stay memory-mapped for the store's lifetime.
/// </summary>
public sealed class SafetensorsCheckpoint : IWeightStore, IDisposable
{
    private readonly List<SafetensorsFile> _files = [];
    private readonly Dictionary<string, SafetensorsFile> _byTensor = new(StringComparer.Ordinal);

    private SafetensorsCheckpoint() { }

    public static SafetensorsCheckpoint Open(string directory)
    {
        var store = new SafetensorsCheckpoint();
        try
        {
            string single = Path.Combine(directory, "model.safetensors");
            string index = Path.Combine(directory, "model.safetensors.index.json");
            if (File.Exists(index)) store.OpenSharded(directory, index);
            else if (File.Exists(single)) store.Add(SafetensorsFile.Open(single));
            else throw new ModelFormatException(directory, "no model.safetensors or model.safetensors.index.json in the directory");
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private void OpenSharded(string directory, string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, "missing object 'weight_map'");
            weightMap = map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String
                ? p.Value.GetString()!
                : throw new ModelFormatException(indexPath, "shard file name is not a string", p.Name));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(indexPath, $"not valid JSON: {e.Message}", inner: e);
        }
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var shardName in weightMap.Values.Distinct())
        {
            if (shardName != Path.GetFileName(shardName) || shardName is "." or "..")
                throw new ModelFormatException(indexPath, $"shard '{shardName}' is not a file name in the checkpoint directory");
            var file = SafetensorsFile.Open(Path.Combine(directory, shardName));
            shards[shardName] = file;
            _files.Add(file);
        }
        foreach (var (tensor, shardName) in weightMap)
        {
            var file = shards[shardName];
            if (!file.Contains(tensor))
                throw new ModelFormatException(file.Path, "listed in the index but missing from the shard", tensor);
            _byTensor[tensor] = file;
        }
    }

    private void Add(SafetensorsFile file)
    {
        _files.Add(file);
        foreach (var e in file.Entries)
        {
            if (!_byTensor.TryAdd(e.Name, file))
                throw new ModelFormatException(file.Path, "stored in two files", e.Name);
        }
    }

    public IEnumerable<string> Keys => _byTensor.Keys;
    public bool Contains(string key) => _byTensor.ContainsKey(key);

    public WeightTensor Get(string key) =>
        _byTensor.TryGetValue(key, out var file)
            ? file.Tensor(key)
            : throw new ModelFormatException(_files.FirstOrDefault()?.Path ?? "checkpoint", "not in the checkpoint", key);

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
