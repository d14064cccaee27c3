using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Backends.Gpu.Execution;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;

namespace Codesign.Runtime.Devices;

/// <summary>
/// Opens a causal-LM session on a named device: "interpreter" (the golden model), "cpu" (LLVM-compiled kernels) or
/// "gpu" (ILGPU kernels on CUDA; on ILGPU's CPU accelerator, with a notice, where no CUDA device exists).
/// </summary>
public static class DeviceSessions
{
    public static readonly string[] Names = ["interpreter", "cpu", "gpu"];

    /// <summary>The session; dispose it when it is <see cref="IDisposable"/> (the cpu device holds compiled code).</summary>
    /// <param name="lut">cpu: which quantized layers become LUT-mpGEMM (the interpreter and the gpu run the graph as given).</param>
    /// <param name="notice">Told when a device falls back (the gpu without CUDA).</param>
    public static ICausalLmSession Open(string device, Graph graph, IWeightStore weights, int threads = 0, LutChoice lut = LutChoice.Auto, Action<string>? notice = null) => device switch
    {
        "interpreter" => new InterpreterSession(new ReferenceInterpreter(graph, weights)),
        "cpu" => new CpuSession(CpuProgram.Compile(graph, weights, threads, lut: lut), ownsProgram: true),
        "gpu" => new GpuSession(GpuProgram.Compile(graph, weights, GpuDevice.Open(GpuAcceleratorKind.Auto, notice), ownsDevice: true)),
        FpgaSession.RtlDevice or FpgaSession.FunctionalDevice =>
            throw new CodesignException($"{device} runs fpga artifacts: compile the model with --target fpga -o DIR, then run DIR"),
        _ => throw new CodesignException($"unknown device '{device}' (one of {string.Join(", ", Names)})"),
    };
}
