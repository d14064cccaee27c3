using System.ComponentModel;
using System.Diagnostics;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Aot;

/// <summary>
/// Links a relocatable object into a shared object with binutils' <c>ld</c> (installed by scripts/setup.sh).
/// libm and libc are recorded as dependencies, so calls such as expf resolve wherever the library is loaded.
/// </summary>
public static class SharedObjectLinker
{
    private const string Linker = "ld";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    public static void Link(string objectPath, string sharedObjectPath)
    {
        var start = new ProcessStartInfo(Linker)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-shared", "--no-undefined", "-o", sharedObjectPath, objectPath, RuntimeLibrary("libm.so.6"), RuntimeLibrary("libc.so.6") })
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CodesignException($"cpu backend: could not start the linker '{Linker}'");
        }
        catch (Win32Exception e)
        {
            throw new CodesignException($"cpu backend: cannot link {sharedObjectPath}: the linker '{Linker}' is not installed ({e.Message}); run scripts/setup.sh or `apt-get install binutils`");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(Limit))
            {
                process.Kill(entireProcessTree: true);
                throw new CodesignException($"cpu backend: the linker did not finish linking {sharedObjectPath} within {Limit.TotalMinutes} minutes");
            }
            if (process.ExitCode != 0)
                throw new CodesignException($"cpu backend: '{Linker}' failed to link {sharedObjectPath} (exit {process.ExitCode}): {(stderr.Result + stdout.Result).Trim()}");
        }
    }

    /// <summary>
    /// The C runtime's shared objects themselves (package libc6, always present), not the -lm/-lc linker scripts of
    /// libc6-dev: linking against them records their sonames and lets --no-undefined check every call the kernels make.
    /// </summary>
    private static string RuntimeLibrary(string soname) =>
        new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64" }.Select(d => Path.Combine(d, soname)).FirstOrDefault(File.Exists)
            ?? throw new CodesignException($"cpu backend: cannot link the kernels: {soname} was not found in the system's library directories");
}
