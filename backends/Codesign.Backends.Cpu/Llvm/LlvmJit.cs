using Codesign.Backends.Cpu.Interop;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>
/// ORC LLJIT for the host: modules built in its thread-safe context are added once and their functions
/// looked up by name. Calls into libm (expf, cosf…) resolve against the process. Code lives until disposal.
/// </summary>
public sealed class LlvmJit : IDisposable
{
    private nint _jit;
    private nint _context;

    public LlvmJit()
    {
        HostTarget.Initialize();
        LlvmNative.Check(LlvmNative.LLVMOrcJITTargetMachineBuilderDetectHost(out nint machineBuilder), "detecting the host for the JIT");
        nint builder = LlvmNative.LLVMOrcCreateLLJITBuilder();
        LlvmNative.LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, machineBuilder);
        LlvmNative.Check(LlvmNative.LLVMOrcCreateLLJIT(out _jit, builder), "creating the JIT");
        byte prefix = LlvmNative.LLVMOrcLLJITGetGlobalPrefix(_jit);
        LlvmNative.Check(LlvmNative.LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(out nint generator, prefix, 0, 0), "resolving process symbols");
        LlvmNative.LLVMOrcJITDylibAddGenerator(LlvmNative.LLVMOrcLLJITGetMainJITDylib(_jit), generator);
        _context = LlvmNative.LLVMOrcCreateNewThreadSafeContext();
        Types = new LlvmTypes(LlvmNative.LLVMOrcThreadSafeContextGetContext(_context));
    }

    public LlvmTypes Types { get; }

    public LlvmModule NewModule(string name) => new(name, Types);

    /// <summary>Hands the module to the JIT (it is compiled lazily on first lookup).</summary>
    public void Add(LlvmModule module)
    {
        nint tsm = LlvmNative.LLVMOrcCreateNewThreadSafeModule(module.Release(), _context);
        LlvmNative.Check(LlvmNative.LLVMOrcLLJITAddLLVMIRModule(_jit, LlvmNative.LLVMOrcLLJITGetMainJITDylib(_jit), tsm), "adding a module to the JIT");
    }

    public nint Lookup(string name)
    {
        LlvmNative.Check(LlvmNative.LLVMOrcLLJITLookup(_jit, out ulong address, name), $"looking up '{name}'");
        return address != 0 ? (nint)address : throw new CodesignException($"cpu backend: the JIT has no function '{name}'");
    }

    public void Dispose()
    {
        if (_jit != 0) LlvmNative.LLVMOrcDisposeLLJIT(_jit);
        if (_context != 0) LlvmNative.LLVMOrcDisposeThreadSafeContext(_context);
        _jit = _context = 0;
    }
}
