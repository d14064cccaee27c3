using System.Security.Cryptography;
using System.Text;

namespace Codesign.Runtime.Artifacts;

/// <summary>SHA-256 of the artifact's files, and the content hash over all of them (sorted by path).</summary>
internal static class ArtifactHashes
{
    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Content(IReadOnlyDictionary<string, string> files)
    {
        var text = new StringBuilder();
        foreach (var (path, hash) in files.OrderBy(f => f.Key, StringComparer.Ordinal)) text.Append(path).Append('\t').Append(hash).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
