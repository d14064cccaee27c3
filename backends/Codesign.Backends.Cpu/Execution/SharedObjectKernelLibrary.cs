using System.Runtime.InteropServices;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// Kernels compiled ahead of time into a shared object (an artifact's kernels.so), loaded with the system's
/// dynamic loader: no LLVM in the process.
/// </summary>
public sealed class SharedObjectKernelLibrary : IKernelLibrary
{
    private nint _handle;

    public SharedObjectKernelLibrary(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new CodesignException($"{path}: the kernel library is missing");
        try
        {
            _handle = NativeLibrary.Load(System.IO.Path.GetFullPath(path));
        }
        catch (DllNotFoundException e)
        {
            throw new CodesignException($"{path}: cannot load the kernel library: {e.Message}");
        }
        catch (BadImageFormatException e)
        {
            throw new CodesignException($"{path}: not a shared object for this machine: {e.Message}");
        }
    }

    public string Path { get; }

    public nint Address(string kernel)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        return NativeLibrary.TryGetExport(_handle, kernel, out nint address)
            ? address
            : throw new CodesignException($"{Path}: no kernel '{kernel}' (the library was built for another graph or another codesign version)");
    }

    public void Dispose()
    {
        if (_handle != 0) NativeLibrary.Free(_handle);
        _handle = 0;
    }
}
