namespace Codesign.Backends.Fpga.Verification;

/// <summary>Rendered RTL written into a fresh temporary directory for a tool to read; removed on dispose.</summary>
internal sealed class RtlScratch : IDisposable
{
    public RtlScratch(string tool, IReadOnlyDictionary<string, string> rtl)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"codesign-{tool}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        var files = new List<string>();
        foreach (var (name, text) in rtl)
        {
            files.Add(Path.Combine(Directory, name));
            File.WriteAllText(files[^1], text);
        }
        Files = files;
    }

    public string Directory { get; }
    public IReadOnlyList<string> Files { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
