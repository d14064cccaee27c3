using Codesign.Backends.Cpu.Interop;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>
/// A plain LLVM context for modules that are written to object files rather than handed to the JIT
/// (ahead-of-time kernels). Dispose the modules before the context.
/// </summary>
public sealed class LlvmContext : IDisposable
{
    private nint _context;

    public LlvmContext()
    {
        HostTarget.Initialize();
        _context = LlvmNative.LLVMContextCreate();
        Types = new LlvmTypes(_context);
    }

    public LlvmTypes Types { get; }

    public LlvmModule NewModule(string name) => new(name, Types);

    public void Dispose()
    {
        if (_context != 0) LlvmNative.LLVMContextDispose(_context);
        _context = 0;
    }
}
