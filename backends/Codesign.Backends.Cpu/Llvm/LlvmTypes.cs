using Codesign.Backends.Cpu.Interop;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>An LLVM type handle.</summary>
public readonly record struct LType(nint Handle);

/// <summary>An LLVM value handle (instruction, constant, argument, function).</summary>
public readonly record struct LValue(nint Handle);

/// <summary>The types and constants of one LLVM context, named as codegen uses them.</summary>
public sealed class LlvmTypes
{
    internal LlvmTypes(nint context)
    {
        Context = context;
        F32 = new(LlvmNative.LLVMFloatTypeInContext(context));
        F64 = new(LlvmNative.LLVMDoubleTypeInContext(context));
        F16 = new(LlvmNative.LLVMHalfTypeInContext(context));
        I1 = Int(1);
        I8 = Int(8);
        I16 = Int(16);
        I32 = Int(32);
        I64 = Int(64);
        Void = new(LlvmNative.LLVMVoidTypeInContext(context));
        Ptr = new(LlvmNative.LLVMPointerTypeInContext(context, 0));
    }

    internal nint Context { get; }
    public LType F32 { get; }
    public LType F64 { get; }
    public LType F16 { get; }
    public LType I1 { get; }
    public LType I8 { get; }
    public LType I16 { get; }
    public LType I32 { get; }
    public LType I64 { get; }
    public LType Void { get; }
    /// <summary>The opaque pointer type (LLVM 15 default).</summary>
    public LType Ptr { get; }

    public LType Int(int bits) => new(LlvmNative.LLVMIntTypeInContext(Context, (uint)bits));
    public LType Vector(LType element, int lanes) => new(LlvmNative.LLVMVectorType(element.Handle, (uint)lanes));
    public LType Array(LType element, int count) => new(LlvmNative.LLVMArrayType(element.Handle, (uint)count));
    public LType Function(LType result, params LType[] parameters) =>
        new(LlvmNative.LLVMFunctionType(result.Handle, parameters.Select(p => p.Handle).ToArray(), (uint)parameters.Length, 0));

    public LValue Const(LType integerType, long value) => new(LlvmNative.LLVMConstInt(integerType.Handle, unchecked((ulong)value), 1));
    public LValue I32Const(int value) => Const(I32, value);
    public LValue I64Const(long value) => Const(I64, value);
    public LValue F32Const(float value) => new(LlvmNative.LLVMConstReal(F32.Handle, value));
    public LValue F64Const(double value) => new(LlvmNative.LLVMConstReal(F64.Handle, value));
    public LValue Zero(LType type) => new(LlvmNative.LLVMConstNull(type.Handle));
    public LValue Undef(LType type) => new(LlvmNative.LLVMGetUndef(type.Handle));
    /// <summary>A constant integer vector, e.g. byte shuffle masks.</summary>
    public LValue ConstInts(LType elementType, IEnumerable<long> values) => ConstVector(values.Select(v => Const(elementType, v)).ToArray());
    public LValue ConstVector(params LValue[] elements) => new(LlvmNative.LLVMConstVector(elements.Select(e => e.Handle).ToArray(), (uint)elements.Length));
    public LValue ConstF32Array(IReadOnlyList<float> values) =>
        new(LlvmNative.LLVMConstArray(F32.Handle, values.Select(v => F32Const(v).Handle).ToArray(), (uint)values.Count));
}
