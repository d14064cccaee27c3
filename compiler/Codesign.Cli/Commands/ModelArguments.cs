using System.CommandLine;
using Codesign.Backends.Cpu.Lowering;

namespace Codesign.Cli.Commands;

/// <summary>Arguments and loading steps shared by the commands that take a model.</summary>
internal static class ModelArguments
{
    public static Argument<string> Model() => new("model")
    {
        Description = "A Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.model), a LLaMA .gguf file, or (run, eval) an artifact directory from `compile --target`.",
    };

    public static Option<string?> Device() => new("--device")
    {
        Description = "Where to run: interpreter (the reference; the default for a model), cpu (kernels compiled by LLVM for this machine) or gpu (ILGPU kernels on CUDA; on ILGPU's CPU accelerator where no CUDA device exists). An artifact runs on the device it was compiled for; an fpga artifact on fpga-sim (the Verilated accelerator RTL) or fpga-model (the functional model of its instruction set).",
    };

    public static Option<string?> Placement() => new("--placement")
    {
        Description = "Run the model across devices instead of on one: auto (a cost model chooses between cpu and gpu per op), or rules SELECTOR=DEVICE joined by commas, where SELECTOR is an op class (matmul, attention, norm, elementwise, rope, layout), an op mnemonic (nn.rms_norm) or * for the rest, e.g. matmul=gpu,*=cpu. Excludes --device. For compile: compile each segment for its device into one artifact (cpu and gpu only), which then runs as placed.",
    };

    public static Option<LutChoice> Lut() => new("--lut")
    {
        Description = "cpu device: rewrite 1–4-bit layers into LUT-mpGEMM (int8 activation tables): auto (per layer), always or never. fpga target: auto and always put the 2–4-bit layers with f32 activations on the accelerator's LUT engine (layers with act_bits = 8 stay on the DSP chain), never keeps them off it. An artifact keeps the choice made when it was compiled.",
        DefaultValueFactory = _ => LutChoice.Auto,
    };

    public static Option<int> Threads() => new("--threads") { Description = "Cores for the cpu device (0: all).", DefaultValueFactory = _ => 0 };
}
