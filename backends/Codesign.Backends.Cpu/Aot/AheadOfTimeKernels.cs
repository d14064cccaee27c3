using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Aot;

/// <summary>What a kernel library was compiled for: the LLVM triple, CPU and features its code may use, and its kernels' symbols.</summary>
public sealed record KernelLibraryTarget(string Triple, string Cpu, IReadOnlyList<string> Features, IReadOnlyList<string> Kernels);

/// <summary>
/// Compiles kernels ahead of time: the same module the JIT would build (<see cref="KernelModules"/>), written as an
/// object file for this CPU and linked into a shared object that <see cref="SharedObjectKernelLibrary"/> loads.
/// </summary>
public static class AheadOfTimeKernels
{
    public static KernelLibraryTarget Compile(IEnumerable<IKernelSpec> specs, string sharedObjectPath)
    {
        using var target = new HostTarget();
        using var context = new LlvmContext();
        using var module = context.NewModule("codesign_kernels");
        var kernels = KernelModules.Fill(module, target, specs);
        string objectPath = sharedObjectPath + ".o";
        try
        {
            target.EmitObject(module, objectPath);
            SharedObjectLinker.Link(objectPath, sharedObjectPath);
        }
        finally
        {
            File.Delete(objectPath);
        }
        return new KernelLibraryTarget(target.Triple, target.CpuName, target.EnabledFeatures, kernels.Select(k => k.Name).ToArray());
    }
}
