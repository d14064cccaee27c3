using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Aot;

/// <summary>Paths named by an artifact's manifest, which must stay inside the artifact directory.</summary>
public static class ArtifactPaths
{
    /// <summary>The full path of <paramref name="relative"/> inside <paramref name="directory"/>; a name that would leave it is refused.</summary>
    public static string Inside(string directory, string relative)
    {
        string root = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root, StringComparison.Ordinal) ? full : throw new CodesignException($"{directory}: file '{relative}' lies outside the artifact");
    }
}
