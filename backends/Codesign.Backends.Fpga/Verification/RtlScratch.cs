namespace Codesign.Backends.Fpga.Verification;

/// <summary>Rendered RTL written into a fresh temporary directory for a tool to read; removed on dispose.</summary>
internal sealed class RtlScratch : IDisposable
{
    public RtlScratch(string tool, IReadOnlyDictionary<string, string> rtl)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"codesign-{tool}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        Files = WriteFiles(Directory, rtl);
    }

    /// <summary>Writes each file (name to text) into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> WriteFiles(string directory, IReadOnlyDictionary<string, string> files) =>
        [.. files.Select(kv =>
        {
            string path = Path.Combine(directory, kv.Key);
            File.WriteAllText(path, kv.Value);
            return path;
        })];

    /// <summary>A short hex key of <paramref name="salt"/> and every file (name and text, in name order): what a cache of tool results is keyed by.</summary>
    public static string Key(string salt, IEnumerable<KeyValuePair<string, string>> files)
    {
        var text = new System.Text.StringBuilder(salt);
        foreach (var (name, content) in files.OrderBy(kv => kv.Key, StringComparer.Ordinal)) text.Append('\0').Append(name).Append('\0').Append(content);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())))[..20];
    }

    public string Directory { get; }
    public IReadOnlyList<string> Files { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
