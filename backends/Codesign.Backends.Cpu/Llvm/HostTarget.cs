using Codesign.Backends.Cpu.Interop;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>
/// The machine we run on, as LLVM sees it: triple, CPU name and features (AVX2, AVX-512, VNNI where
/// present), a target machine for that CPU, and the new pass manager's O3 pipeline tuned for it.
/// </summary>
public sealed class HostTarget : IDisposable
{
    private static readonly object InitLock = new();
    private static bool _initialized;
    private nint _machine;

    public HostTarget()
    {
        Initialize();
        Triple = LlvmNative.TakeMessage(LlvmNative.LLVMGetDefaultTargetTriple());
        CpuName = LlvmNative.TakeMessage(LlvmNative.LLVMGetHostCPUName());
        Features = LlvmNative.TakeMessage(LlvmNative.LLVMGetHostCPUFeatures());
        if (LlvmNative.LLVMGetTargetFromTriple(Triple, out nint target, out nint error) != 0)
            throw new CodesignException($"cpu backend: LLVM has no target for {Triple}: {LlvmNative.TakeMessage(error)}");
        _machine = LlvmNative.LLVMCreateTargetMachine(target, Triple, CpuName, Features, 3 /* Aggressive */, 2 /* PIC */, 0 /* default code model */);
        nint data = LlvmNative.LLVMCreateTargetDataLayout(_machine);
        DataLayout = LlvmNative.TakeMessage(LlvmNative.LLVMCopyStringRepOfTargetData(data));
        LlvmNative.LLVMDisposeTargetData(data);
    }

    public string Triple { get; }
    public string CpuName { get; }
    /// <summary>LLVM's feature string, e.g. "+avx2,+fma,-avx512f,…".</summary>
    public string Features { get; }
    public string DataLayout { get; }

    public bool Has(string feature) => Features.Split(',').Contains("+" + feature);

    /// <summary>The features the generated code may use (LLVM names without the "+").</summary>
    public IReadOnlyList<string> EnabledFeatures => Features.Split(',').Where(f => f.StartsWith('+')).Select(f => f[1..]).ToArray();

    /// <summary>The widest float vector the kernels should use: 16 lanes with AVX-512, else 8.</summary>
    public int FloatLanes => Has("avx512f") ? 16 : 8;

    internal static void Initialize()
    {
        LlvmLibrary.EnsureLoaded();
        lock (InitLock)
        {
            if (_initialized) return;
            LlvmNative.LLVMInitializeX86TargetInfo();
            LlvmNative.LLVMInitializeX86Target();
            LlvmNative.LLVMInitializeX86TargetMC();
            LlvmNative.LLVMInitializeX86AsmPrinter();
            _initialized = true;
        }
    }

    public void Prepare(LlvmModule module) => module.SetTarget(Triple, DataLayout);

    /// <summary>Runs the O3 pipeline (inlining, loop unrolling, SLP and loop vectorisation) for this CPU.</summary>
    public void Optimize(LlvmModule module, string pipeline = "default<O3>")
    {
        nint options = LlvmNative.LLVMCreatePassBuilderOptions();
        try
        {
            LlvmNative.Check(LlvmNative.LLVMRunPasses(module.Handle, pipeline, _machine, options), $"pass pipeline '{pipeline}'");
        }
        finally
        {
            LlvmNative.LLVMDisposePassBuilderOptions(options);
        }
    }

    /// <summary>Writes the module as a relocatable object file for this CPU.</summary>
    public void EmitObject(LlvmModule module, string path)
    {
        if (LlvmNative.LLVMTargetMachineEmitToFile(_machine, module.Handle, path, 1 /* object */, out nint error) != 0)
            throw new CodesignException($"cpu backend: cannot write {path}: {LlvmNative.TakeMessage(error)}");
    }

    public void Dispose()
    {
        if (_machine != 0) LlvmNative.LLVMDisposeTargetMachine(_machine);
        _machine = 0;
    }
}
