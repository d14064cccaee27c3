using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// Every generated kernel has one C signature, <c>void kernel(const int64_t* slots, int64_t begin, int64_t end)</c>:
/// the slots hold its pointers and sizes (as the kernel's spec lists them), and [begin, end) is the share of
/// its work items (rows, columns, heads…) one thread computes. One signature lets the runtime launch any
/// kernel from any thread with one function-pointer type, JIT-compiled or loaded from a shared object.
/// </summary>
public static class KernelAbi
{
    public static LType Signature(LlvmTypes t) => t.Function(t.Void, t.Ptr, t.I64, t.I64);

    /// <summary>Defines the kernel; the body sees (slots, begin, end).</summary>
    public static void Define(LlvmModule module, string name, Action<IrBuilder, LValue, LValue, LValue> body)
    {
        var f = module.AddFunction(name, Signature(module.Types), "slots", "begin", "end");
        using var b = new IrBuilder(f);
        body(b, f.Param(0), f.Param(1), f.Param(2));
        b.RetVoid();
    }
}

/// <summary>What a kernel computes, with every compile-time constant it is specialised on; equal specs share code.</summary>
public interface IKernelSpec
{
    /// <summary>The symbol, unique per spec (a C identifier).</summary>
    string Name { get; }
    void Emit(LlvmModule module, int lanes);
}
