using Codesign.Backends.Cpu.Interop;

namespace Codesign.Backends.Cpu.Llvm;

/// <summary>
/// Builds the body of one function: arithmetic, memory, intrinsics and structured loops (phis are
/// made here, so kernels read as loops over values). Float vectors are <c>&lt;lanes x float&gt;</c>.
/// </summary>
public sealed class IrBuilder : IDisposable
{
    private readonly nint _b;
    private readonly LlvmFunction _function;

    public IrBuilder(LlvmFunction function)
    {
        _function = function;
        T = function.Module.Types;
        _b = LlvmNative.LLVMCreateBuilderInContext(T.Context);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, function.AppendBlock("entry"));
    }

    public LlvmTypes T { get; }
    private LlvmModule Module => _function.Module;

    public void Dispose() => LlvmNative.LLVMDisposeBuilder(_b);

    // --- integers (LLVMOpcode numbers from llvm-c/Core.h)
    public LValue Add(LValue a, LValue b) => Bin(8, a, b);
    public LValue Sub(LValue a, LValue b) => Bin(10, a, b);
    public LValue Mul(LValue a, LValue b) => Bin(12, a, b);
    public LValue SDiv(LValue a, LValue b) => Bin(15, a, b);
    public LValue SRem(LValue a, LValue b) => Bin(18, a, b);
    public LValue Shl(LValue a, LValue b) => Bin(20, a, b);
    public LValue LShr(LValue a, LValue b) => Bin(21, a, b);
    public LValue And(LValue a, LValue b) => Bin(23, a, b);
    public LValue Or(LValue a, LValue b) => Bin(24, a, b);

    // --- floats
    public LValue FAdd(LValue a, LValue b) => Bin(9, a, b);
    public LValue FSub(LValue a, LValue b) => Bin(11, a, b);
    public LValue FMul(LValue a, LValue b) => Bin(13, a, b);
    public LValue FDiv(LValue a, LValue b) => Bin(16, a, b);

    private LValue Bin(int opcode, LValue a, LValue b) => new(LlvmNative.LLVMBuildBinOp(_b, opcode, a.Handle, b.Handle, ""));

    public LValue ILess(LValue a, LValue b) => new(LlvmNative.LLVMBuildICmp(_b, 40 /* SLT */, a.Handle, b.Handle, ""));
    public LValue IEqual(LValue a, LValue b) => new(LlvmNative.LLVMBuildICmp(_b, 32 /* EQ */, a.Handle, b.Handle, ""));
    public LValue FCmpEqual(LValue a, LValue b) => new(LlvmNative.LLVMBuildFCmp(_b, 1 /* OEQ */, a.Handle, b.Handle, ""));
    public LValue Select(LValue condition, LValue then, LValue otherwise) => new(LlvmNative.LLVMBuildSelect(_b, condition.Handle, then.Handle, otherwise.Handle, ""));
    public LValue IMin(LValue a, LValue b) => Select(ILess(a, b), a, b);

    // --- conversions
    public LValue Trunc(LValue v, LType to) => Cast(30, v, to);
    public LValue ZExt(LValue v, LType to) => Cast(31, v, to);
    public LValue SExt(LValue v, LType to) => Cast(32, v, to);
    public LValue FPToSI(LValue v, LType to) => Cast(34, v, to);
    public LValue UIToFP(LValue v, LType to) => Cast(35, v, to);
    public LValue SIToFP(LValue v, LType to) => Cast(36, v, to);
    public LValue FPTrunc(LValue v, LType to) => Cast(37, v, to);
    public LValue FPExt(LValue v, LType to) => Cast(38, v, to);
    public LValue IntToPtr(LValue v) => Cast(40, v, T.Ptr);
    public LValue BitCast(LValue v, LType to) => Cast(41, v, to);
    private LValue Cast(int opcode, LValue v, LType to) => new(LlvmNative.LLVMBuildCast(_b, opcode, v.Handle, to.Handle, ""));

    // --- memory
    public LValue Load(LType type, LValue pointer, int align = 1)
    {
        var v = LlvmNative.LLVMBuildLoad2(_b, type.Handle, pointer.Handle, "");
        LlvmNative.LLVMSetAlignment(v, (uint)align);
        return new(v);
    }

    public void Store(LValue value, LValue pointer, int align = 1) =>
        LlvmNative.LLVMSetAlignment(LlvmNative.LLVMBuildStore(_b, value.Handle, pointer.Handle), (uint)align);

    /// <summary>&amp;pointer[index] for elements of <paramref name="element"/> (index i64).</summary>
    public LValue Gep(LType element, LValue pointer, LValue index) =>
        new(LlvmNative.LLVMBuildInBoundsGEP2(_b, element.Handle, pointer.Handle, [index.Handle], 1, ""));

    /// <summary>A stack array, created where the builder stands (kernels call this before their loops).</summary>
    public LValue StackArray(LType element, LValue count) => new(LlvmNative.LLVMBuildArrayAlloca(_b, element.Handle, count.Handle, ""));

    /// <summary>Reads i64 slot <paramref name="index"/> of a kernel's argument block.</summary>
    public LValue Slot(LValue slots, int index) => Load(T.I64, Gep(T.I64, slots, T.I64Const(index)), 8);
    public LValue PointerSlot(LValue slots, int index) => IntToPtr(Slot(slots, index));

    // --- vectors
    public LType TypeOf(LValue value) => new(LlvmNative.LLVMTypeOf(value.Handle));

    /// <summary>A vector with the scalar in every lane.</summary>
    public LValue Splat(LValue scalar, int lanes)
    {
        var type = T.Vector(TypeOf(scalar), lanes);
        var one = new LValue(LlvmNative.LLVMBuildInsertElement(_b, T.Undef(type).Handle, scalar.Handle, T.I32Const(0).Handle, ""));
        return Shuffle(one, T.Undef(type), new int[lanes]);
    }

    public LValue Extract(LValue vector, int lane) => new(LlvmNative.LLVMBuildExtractElement(_b, vector.Handle, T.I32Const(lane).Handle, ""));

    /// <summary>A shuffle whose mask is an already built constant vector.</summary>
    public LValue ShuffleWith(LValue a, LValue b, LValue mask) => new(LlvmNative.LLVMBuildShuffleVector(_b, a.Handle, b.Handle, mask.Handle, ""));

    public LValue Shuffle(LValue a, LValue b, int[] mask) =>
        new(LlvmNative.LLVMBuildShuffleVector(_b, a.Handle, b.Handle, T.ConstVector(mask.Select(T.I32Const).ToArray()).Handle, ""));

    // --- intrinsics
    private static string F32Suffix(int lanes) => lanes == 1 ? "f32" : $"v{lanes}f32";
    private LType F32Type(int lanes) => lanes == 1 ? T.F32 : T.Vector(T.F32, lanes);

    public LValue Call((LValue Function, LType Type) callee, params LValue[] args) =>
        new(LlvmNative.LLVMBuildCall2(_b, callee.Type.Handle, callee.Function.Handle, args.Select(a => a.Handle).ToArray(), (uint)args.Length, ""));

    /// <summary>a·b + c with one rounding (llvm.fma), scalar or vector.</summary>
    public LValue Fma(LValue a, LValue b, LValue c, int lanes = 1)
    {
        var t = F32Type(lanes);
        return Call(Module.Intrinsic($"llvm.fma.{F32Suffix(lanes)}", t, t, t, t), a, b, c);
    }

    /// <summary>start + v[0] + v[1] + … in lane order (no reassociation: llvm.vector.reduce.fadd without fast-math flags).</summary>
    public LValue ReduceAdd(LValue start, LValue vector, int lanes) =>
        Call(Module.Intrinsic($"llvm.vector.reduce.fadd.{F32Suffix(lanes)}", T.F32, T.F32, F32Type(lanes)), start, vector);

    /// <summary>Any intrinsic by its full name (target-specific ones such as llvm.x86.avx2.pshuf.b included).</summary>
    public LValue Intrinsic(string name, LType result, params LValue[] args) =>
        Call(Module.Intrinsic(name, result, args.Select(TypeOf).ToArray()), args);

    public LValue UnaryF32(string name, LValue x) => Call(Module.Intrinsic($"llvm.{name}.f32", T.F32, T.F32), x);
    public LValue Exp(LValue x) => UnaryF32("exp", x);
    public LValue Cos(LValue x) => UnaryF32("cos", x);
    public LValue Sin(LValue x) => UnaryF32("sin", x);
    public LValue MaxF32(LValue a, LValue b) => Call(Module.Intrinsic("llvm.maxnum.f32", T.F32, T.F32, T.F32), a, b);
    public LValue SqrtF64(LValue x) => Call(Module.Intrinsic("llvm.sqrt.f64", T.F64, T.F64), x);

    // --- control flow
    public void RetVoid() => LlvmNative.LLVMBuildRetVoid(_b);

    /// <summary>for (i = start; i &lt; end; i += step) body(i), on i64 indices.</summary>
    public void For(LValue start, LValue end, long step, Action<LValue> body) =>
        For(start, end, step, [], (i, _) => { body(i); return []; });

    /// <summary>A loop carrying values (accumulators) from one iteration to the next; returns their final values.</summary>
    public LValue[] For(LValue start, LValue end, long step, LValue[] carried, Func<LValue, LValue[], LValue[]> body)
    {
        nint preheader = LlvmNative.LLVMGetInsertBlock(_b);
        nint header = _function.AppendBlock("loop"), bodyBlock = _function.AppendBlock("body"), exit = _function.AppendBlock("exit");
        LlvmNative.LLVMBuildBr(_b, header);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, header);
        var i = new LValue(LlvmNative.LLVMBuildPhi(_b, T.I64.Handle, "i"));
        var phis = carried.Select(c => new LValue(LlvmNative.LLVMBuildPhi(_b, LlvmNative.LLVMTypeOf(c.Handle), "acc"))).ToArray();
        LlvmNative.LLVMBuildCondBr(_b, ILess(i, end).Handle, bodyBlock, exit);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, bodyBlock);
        var next = body(i, phis);
        if (next.Length != carried.Length) throw new InvalidOperationException("a loop body must return one value per carried value");
        var stepped = Add(i, T.I64Const(step));
        nint latch = LlvmNative.LLVMGetInsertBlock(_b);
        LlvmNative.LLVMBuildBr(_b, header);
        LlvmNative.LLVMAddIncoming(i.Handle, [start.Handle, stepped.Handle], [preheader, latch], 2);
        for (int k = 0; k < phis.Length; k++)
            LlvmNative.LLVMAddIncoming(phis[k].Handle, [carried[k].Handle, next[k].Handle], [preheader, latch], 2);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, exit);
        return phis;
    }

    /// <summary>if (condition) then(); else otherwise(); continues after.</summary>
    public void IfElse(LValue condition, Action then, Action otherwise)
    {
        nint thenBlock = _function.AppendBlock("then"), elseBlock = _function.AppendBlock("else"), after = _function.AppendBlock("endif");
        LlvmNative.LLVMBuildCondBr(_b, condition.Handle, thenBlock, elseBlock);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, thenBlock);
        then();
        LlvmNative.LLVMBuildBr(_b, after);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, elseBlock);
        otherwise();
        LlvmNative.LLVMBuildBr(_b, after);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, after);
    }

    /// <summary>if (condition) then(); continues after.</summary>
    public void If(LValue condition, Action then)
    {
        nint thenBlock = _function.AppendBlock("then"), after = _function.AppendBlock("endif");
        LlvmNative.LLVMBuildCondBr(_b, condition.Handle, thenBlock, after);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, thenBlock);
        then();
        LlvmNative.LLVMBuildBr(_b, after);
        LlvmNative.LLVMPositionBuilderAtEnd(_b, after);
    }
}
