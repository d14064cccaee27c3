using System.CommandLine;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary>Arguments and loading steps shared by the commands that take a model.</summary>
internal static class ModelArguments
{
    public static Argument<string> Model() => new("model")
    {
        Description = "A Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.model) or a LLaMA .gguf file.",
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Where to run: interpreter (the reference) or cpu (kernels compiled by LLVM for this machine).",
        DefaultValueFactory = _ => "interpreter",
    };

    public static Option<LutChoice> Lut() => new("--lut")
    {
        Description = "cpu device: rewrite 1–4-bit layers into LUT-mpGEMM (int8 activation tables): auto (per layer), always or never.",
        DefaultValueFactory = _ => LutChoice.Auto,
    };

    public static Option<int> Threads() => new("--threads") { Description = "Cores for the cpu device (0: all).", DefaultValueFactory = _ => 0 };

    public static SentencePieceTokenizer Tokenizer(ImportedModel model) =>
        GgufVocabularies.TokenizerOf(model)
            ?? throw new CodesignException($"{model.Source}: no tokenizer.model beside the checkpoint and no vocabulary in the file; pass token ids instead of text");
}
