using System.Reflection;
using System.Runtime.InteropServices;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Interop;

/// <summary>
/// Finds Debian's libLLVM-15 (package libllvm15, installed by scripts/setup.sh) for the
/// <see cref="LlvmNative"/> imports, and turns its absence into one clear error instead of a DllNotFoundException.
/// <see cref="PathVariable"/> names another build of libLLVM-15 to use instead of the system's.
/// </summary>
public static class LlvmLibrary
{
    public const string Name = "LLVM-15";
    public const string PathVariable = "CODESIGN_LIBLLVM";
    private static readonly string[] SystemCandidates = ["libLLVM-15.so.1", "libLLVM-15.so", "/usr/lib/llvm-15/lib/libLLVM-15.so", "/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1"];
    private static readonly Lazy<nint> Handle = new(Load);

    static LlvmLibrary() => NativeLibrary.SetDllImportResolver(typeof(LlvmLibrary).Assembly, Resolve);

    /// <summary>Loads the library now; throws <see cref="CodesignException"/> naming what to install when it is missing.</summary>
    public static void EnsureLoaded() => _ = Handle.Value;

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == Name ? Handle.Value : 0;

    private static string[] Candidates => Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? [path] : SystemCandidates;

    private static nint Load()
    {
        foreach (var candidate in Candidates)
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        throw new CodesignException("cpu backend: libLLVM-15 is not installed (looked for " + string.Join(", ", Candidates)
            + $"); run scripts/setup.sh or `apt-get install libllvm15`, or set {PathVariable} to the library's path");
    }
}
