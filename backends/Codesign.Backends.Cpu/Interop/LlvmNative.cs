using System.Runtime.InteropServices;

namespace Codesign.Backends.Cpu.Interop;

/// <summary>
/// The LLVM 15 C API functions the cpu backend uses (llvm-c/Core.h, Target.h, TargetMachine.h,
/// Transforms/PassBuilder.h, Orc.h, LLJIT.h, Analysis.h), and no others. Every handle is an opaque
/// pointer; <c>Llvm/</c> wraps them in types. Strings returned by LLVM are freed by the caller.
/// </summary>
internal static partial class LlvmNative
{
    private const string Lib = LlvmLibrary.Name;

    // Core: contexts, modules, messages
    [LibraryImport(Lib)] public static partial nint LLVMContextCreate();
    [LibraryImport(Lib)] public static partial void LLVMContextDispose(nint context);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMModuleCreateWithNameInContext(string name, nint context);
    [LibraryImport(Lib)] public static partial void LLVMDisposeModule(nint module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial void LLVMSetTarget(nint module, string triple);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial void LLVMSetDataLayout(nint module, string layout);
    [LibraryImport(Lib)] public static partial nint LLVMPrintModuleToString(nint module);
    [LibraryImport(Lib)] public static partial void LLVMDisposeMessage(nint message);
    [LibraryImport(Lib)] public static partial int LLVMVerifyModule(nint module, int action, out nint message);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMAddFunction(nint module, string name, nint functionType);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMGetNamedFunction(nint module, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMAddGlobal(nint module, nint type, string name);
    [LibraryImport(Lib)] public static partial void LLVMSetInitializer(nint global, nint value);
    [LibraryImport(Lib)] public static partial void LLVMSetGlobalConstant(nint global, int isConstant);
    [LibraryImport(Lib)] public static partial void LLVMSetLinkage(nint global, int linkage);
    [LibraryImport(Lib)] public static partial void LLVMSetAlignment(nint value, uint bytes);

    // Types
    [LibraryImport(Lib)] public static partial nint LLVMFloatTypeInContext(nint context);
    [LibraryImport(Lib)] public static partial nint LLVMHalfTypeInContext(nint context);
    [LibraryImport(Lib)] public static partial nint LLVMDoubleTypeInContext(nint context);
    [LibraryImport(Lib)] public static partial nint LLVMIntTypeInContext(nint context, uint bits);
    [LibraryImport(Lib)] public static partial nint LLVMVoidTypeInContext(nint context);
    [LibraryImport(Lib)] public static partial nint LLVMPointerTypeInContext(nint context, uint addressSpace);
    [LibraryImport(Lib)] public static partial nint LLVMFunctionType(nint returnType, [In] nint[] parameters, uint count, int isVarArg);
    [LibraryImport(Lib)] public static partial nint LLVMVectorType(nint elementType, uint count);
    [LibraryImport(Lib)] public static partial nint LLVMArrayType(nint elementType, uint count);

    // Constants and values
    [LibraryImport(Lib)] public static partial nint LLVMConstInt(nint type, ulong value, int signExtend);
    [LibraryImport(Lib)] public static partial nint LLVMConstReal(nint type, double value);
    [LibraryImport(Lib)] public static partial nint LLVMConstVector([In] nint[] values, uint count);
    [LibraryImport(Lib)] public static partial nint LLVMConstArray(nint elementType, [In] nint[] values, uint count);
    [LibraryImport(Lib)] public static partial nint LLVMConstNull(nint type);
    [LibraryImport(Lib)] public static partial nint LLVMGetUndef(nint type);
    [LibraryImport(Lib)] public static partial nint LLVMTypeOf(nint value);
    [LibraryImport(Lib)] public static partial nint LLVMGetParam(nint function, uint index);
    [LibraryImport(Lib)] public static partial void LLVMSetValueName2(nint value, [In] byte[] name, nuint length);

    // Basic blocks and the builder
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMAppendBasicBlockInContext(nint context, nint function, string name);
    [LibraryImport(Lib)] public static partial nint LLVMCreateBuilderInContext(nint context);
    [LibraryImport(Lib)] public static partial void LLVMDisposeBuilder(nint builder);
    [LibraryImport(Lib)] public static partial void LLVMPositionBuilderAtEnd(nint builder, nint block);
    [LibraryImport(Lib)] public static partial nint LLVMGetInsertBlock(nint builder);
    [LibraryImport(Lib)] public static partial nint LLVMBuildRetVoid(nint builder);
    [LibraryImport(Lib)] public static partial nint LLVMBuildBr(nint builder, nint destination);
    [LibraryImport(Lib)] public static partial nint LLVMBuildCondBr(nint builder, nint condition, nint then, nint otherwise);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildPhi(nint builder, nint type, string name);
    [LibraryImport(Lib)] public static partial void LLVMAddIncoming(nint phi, [In] nint[] values, [In] nint[] blocks, uint count);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildBinOp(nint builder, int opcode, nint lhs, nint rhs, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildICmp(nint builder, int predicate, nint lhs, nint rhs, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildFCmp(nint builder, int predicate, nint lhs, nint rhs, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildSelect(nint builder, nint condition, nint then, nint otherwise, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildCast(nint builder, int opcode, nint value, nint destType, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildLoad2(nint builder, nint type, nint pointer, string name);
    [LibraryImport(Lib)] public static partial nint LLVMBuildStore(nint builder, nint value, nint pointer);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildInBoundsGEP2(nint builder, nint type, nint pointer, [In] nint[] indices, uint count, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildCall2(nint builder, nint functionType, nint function, [In] nint[] args, uint count, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildInsertElement(nint builder, nint vector, nint element, nint index, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildExtractElement(nint builder, nint vector, nint index, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildShuffleVector(nint builder, nint v1, nint v2, nint mask, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMBuildArrayAlloca(nint builder, nint type, nint count, string name);

    // Targets
    [LibraryImport(Lib)] public static partial void LLVMInitializeX86TargetInfo();
    [LibraryImport(Lib)] public static partial void LLVMInitializeX86Target();
    [LibraryImport(Lib)] public static partial void LLVMInitializeX86TargetMC();
    [LibraryImport(Lib)] public static partial void LLVMInitializeX86AsmPrinter();
    [LibraryImport(Lib)] public static partial nint LLVMGetDefaultTargetTriple();
    [LibraryImport(Lib)] public static partial nint LLVMGetHostCPUName();
    [LibraryImport(Lib)] public static partial nint LLVMGetHostCPUFeatures();
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int LLVMGetTargetFromTriple(string triple, out nint target, out nint errorMessage);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMCreateTargetMachine(nint target, string triple, string cpu, string features, int optLevel, int relocMode, int codeModel);
    [LibraryImport(Lib)] public static partial void LLVMDisposeTargetMachine(nint machine);
    [LibraryImport(Lib)] public static partial nint LLVMCreateTargetDataLayout(nint machine);
    [LibraryImport(Lib)] public static partial nint LLVMCopyStringRepOfTargetData(nint data);
    [LibraryImport(Lib)] public static partial void LLVMDisposeTargetData(nint data);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int LLVMTargetMachineEmitToFile(nint machine, nint module, string fileName, int fileType, out nint errorMessage);

    // New pass manager
    [LibraryImport(Lib)] public static partial nint LLVMCreatePassBuilderOptions();
    [LibraryImport(Lib)] public static partial void LLVMDisposePassBuilderOptions(nint options);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMRunPasses(nint module, string passes, nint machine, nint options);

    // Errors (LLVMErrorRef)
    [LibraryImport(Lib)] public static partial nint LLVMGetErrorMessage(nint error);
    [LibraryImport(Lib)] public static partial void LLVMDisposeErrorMessage(nint message);

    // ORC LLJIT
    [LibraryImport(Lib)] public static partial nint LLVMOrcCreateLLJITBuilder();
    [LibraryImport(Lib)] public static partial nint LLVMOrcJITTargetMachineBuilderDetectHost(out nint builder);
    [LibraryImport(Lib)] public static partial void LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(nint builder, nint machineBuilder);
    [LibraryImport(Lib)] public static partial nint LLVMOrcCreateLLJIT(out nint jit, nint builder);
    [LibraryImport(Lib)] public static partial nint LLVMOrcDisposeLLJIT(nint jit);
    [LibraryImport(Lib)] public static partial nint LLVMOrcLLJITGetMainJITDylib(nint jit);
    [LibraryImport(Lib)] public static partial byte LLVMOrcLLJITGetGlobalPrefix(nint jit);
    [LibraryImport(Lib)] public static partial nint LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(out nint generator, byte globalPrefix, nint filter, nint filterContext);
    [LibraryImport(Lib)] public static partial void LLVMOrcJITDylibAddGenerator(nint dylib, nint generator);
    [LibraryImport(Lib)] public static partial nint LLVMOrcCreateNewThreadSafeContext();
    [LibraryImport(Lib)] public static partial nint LLVMOrcThreadSafeContextGetContext(nint context);
    [LibraryImport(Lib)] public static partial void LLVMOrcDisposeThreadSafeContext(nint context);
    [LibraryImport(Lib)] public static partial nint LLVMOrcCreateNewThreadSafeModule(nint module, nint context);
    [LibraryImport(Lib)] public static partial nint LLVMOrcLLJITAddLLVMIRModule(nint jit, nint dylib, nint module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial nint LLVMOrcLLJITLookup(nint jit, out ulong address, string name);

    /// <summary>Copies an LLVM-owned C string and frees it with LLVMDisposeMessage.</summary>
    public static string TakeMessage(nint message)
    {
        if (message == 0) return "";
        string text = Marshal.PtrToStringUTF8(message) ?? "";
        LLVMDisposeMessage(message);
        return text;
    }

    /// <summary>Throws with the message of a non-null LLVMErrorRef, consuming it.</summary>
    public static void Check(nint error, string what)
    {
        if (error == 0) return;
        nint message = LLVMGetErrorMessage(error);
        string text = Marshal.PtrToStringUTF8(message) ?? "";
        LLVMDisposeErrorMessage(message);
        throw new IR.Diagnostics.CodesignException($"cpu backend: {what}: {text}");
    }
}
