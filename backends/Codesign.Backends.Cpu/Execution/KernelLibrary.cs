using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>Entry points of compiled kernels by name, wherever the code came from (the JIT or a shared object).</summary>
public interface IKernelLibrary : IDisposable
{
    nint Address(string kernel);
}

/// <summary>How the kernels of a program become one module, whether it is JIT-compiled or written to an object file.</summary>
internal static class KernelModules
{
    /// <summary>Emits each distinct kernel once, verifies the module and runs the O3 pipeline for <paramref name="target"/>.</summary>
    public static IKernelSpec[] Fill(LlvmModule module, HostTarget target, IEnumerable<IKernelSpec> specs)
    {
        var unique = specs.DistinctBy(s => s.Name).ToArray();
        target.Prepare(module);
        foreach (var spec in unique) spec.Emit(module, target.FloatLanes);
        module.Verify();
        target.Optimize(module);
        return unique;
    }
}

/// <summary>
/// Compiles a set of kernel specs into one LLVM module, optimises it for the host CPU and JIT-compiles it
/// in-process. <see cref="LlvmIr"/> keeps the optimised IR text for inspection.
/// </summary>
public sealed class JitKernelLibrary : IKernelLibrary
{
    private readonly LlvmJit _jit;
    private readonly Dictionary<string, nint> _addresses = [];

    public JitKernelLibrary(IEnumerable<IKernelSpec> specs, bool keepIr = false)
    {
        using var target = new HostTarget();
        Target = $"{target.CpuName} ({target.Triple})";
        _jit = new LlvmJit();
        try
        {
            var module = _jit.NewModule("codesign_kernels");
            var unique = KernelModules.Fill(module, target, specs);
            if (keepIr) LlvmIr = module.Print();
            _jit.Add(module);
            foreach (var spec in unique) _addresses[spec.Name] = _jit.Lookup(spec.Name);
        }
        catch
        {
            _jit.Dispose();
            throw;
        }
    }

    public string Target { get; }
    public string? LlvmIr { get; }

    public nint Address(string kernel) =>
        _addresses.TryGetValue(kernel, out var a) ? a : throw new KeyNotFoundException($"kernel '{kernel}' was not compiled");

    public void Dispose() => _jit.Dispose();
}
