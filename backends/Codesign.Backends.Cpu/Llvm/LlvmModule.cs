using System.Text;
using Codesign.Backends.Cpu.Interop;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>An LLVM module under construction. Ownership passes to the JIT when it is added there.</summary>
public sealed class LlvmModule : IDisposable
{
    private nint _handle;
    private readonly Dictionary<string, (LValue Function, LType Type)> _intrinsics = [];

    internal LlvmModule(string name, LlvmTypes types)
    {
        Types = types;
        _handle = LlvmNative.LLVMModuleCreateWithNameInContext(name, types.Context);
    }

    public LlvmTypes Types { get; }

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(LlvmModule), "the module was handed to the JIT or disposed");

    /// <summary>Gives up ownership (the JIT or the pass that consumed the module frees it).</summary>
    internal nint Release()
    {
        nint h = Handle;
        _handle = 0;
        return h;
    }

    public void SetTarget(string triple, string dataLayout)
    {
        LlvmNative.LLVMSetTarget(Handle, triple);
        LlvmNative.LLVMSetDataLayout(Handle, dataLayout);
    }

    /// <summary>A function with external linkage: a kernel entry point.</summary>
    public LlvmFunction AddFunction(string name, LType type, params string[] parameterNames)
    {
        var f = new LlvmFunction(this, new LValue(LlvmNative.LLVMAddFunction(Handle, name, type.Handle)), type);
        for (int i = 0; i < parameterNames.Length; i++) LlvmFunction.SetName(f.Param(i), parameterNames[i]);
        return f;
    }

    /// <summary>An LLVM intrinsic such as llvm.fma.v8f32, declared once per module.</summary>
    public (LValue Function, LType Type) Intrinsic(string name, LType result, params LType[] parameters)
    {
        if (_intrinsics.TryGetValue(name, out var known)) return known;
        var type = Types.Function(result, parameters);
        var f = new LValue(LlvmNative.LLVMAddFunction(Handle, name, type.Handle));
        return _intrinsics[name] = (f, type);
    }

    /// <summary>A private constant array of floats (tables computed at compile time).</summary>
    public LValue ConstantF32Table(string name, IReadOnlyList<float> values)
    {
        var global = LlvmNative.LLVMAddGlobal(Handle, Types.Array(Types.F32, values.Count).Handle, name);
        LlvmNative.LLVMSetInitializer(global, Types.ConstF32Array(values).Handle);
        LlvmNative.LLVMSetGlobalConstant(global, 1);
        LlvmNative.LLVMSetLinkage(global, 8 /* LLVMInternalLinkage */);
        LlvmNative.LLVMSetAlignment(global, 32);
        return new LValue(global);
    }

    /// <summary>Throws with LLVM's verifier report if the module is malformed (a codegen bug, named by function).</summary>
    public void Verify()
    {
        if (LlvmNative.LLVMVerifyModule(Handle, 2 /* LLVMReturnStatusAction */, out nint message) != 0)
            throw new CodesignException("cpu backend: generated LLVM IR does not verify: " + LlvmNative.TakeMessage(message));
        LlvmNative.LLVMDisposeMessage(message);
    }

    public string Print() => LlvmNative.TakeMessage(LlvmNative.LLVMPrintModuleToString(Handle));

    public void Dispose()
    {
        if (_handle != 0) LlvmNative.LLVMDisposeModule(_handle);
        _handle = 0;
    }
}

/// <summary>A function being defined: its parameters and blocks.</summary>
public sealed class LlvmFunction(LlvmModule module, LValue value, LType type)
{
    public LlvmModule Module { get; } = module;
    public LValue Value { get; } = value;
    public LType Type { get; } = type;

    public LValue Param(int index) => new(LlvmNative.LLVMGetParam(Value.Handle, (uint)index));

    public nint AppendBlock(string name) => LlvmNative.LLVMAppendBasicBlockInContext(Module.Types.Context, Value.Handle, name);

    internal static void SetName(LValue value, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        LlvmNative.LLVMSetValueName2(value.Handle, bytes, (nuint)bytes.Length);
    }
}
