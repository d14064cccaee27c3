using System.CommandLine;
using System.Globalization;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Verification;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Gguf;
using Codesign.Compiler.Partitioning;
using Codesign.Compiler.Recipes;
using Codesign.IR.Diagnostics;
using Codesign.IR.Text;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Scheduling;
using Codesign.Runtime.Text;

namespace Codesign.Cli.Commands;

/// <summary>
/// <c>codesign compile MODEL [--recipe R] -o OUT.gguf|OUT.cir</c>: compress and write the result, as GGUF
/// (llama.cpp's format) or as the text IR; with <c>--target cpu|gpu|fpga -o DIR</c>: compile it into an artifact directory
/// that <c>codesign run DIR</c> runs with no compiler in the process (fpga: on the Verilated accelerator RTL, and
/// <c>codesign sim DIR</c> reports its cycles); with <c>--placement SPEC -o DIR</c>: compile each
/// segment of the split for its device into one artifact that runs as placed.
/// </summary>
internal static class CompileCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var recipe = new Option<string?>("--recipe") { Description = "Compression recipe (JSON)." };
        var outPath = new Option<string>("-o", "--output") { Description = "OUT.gguf (weights and tokenizer, llama.cpp's format), OUT.cir (the graph as text), or with --target an artifact directory.", Required = true };
        var fallback = new Option<bool>("--gguf-f32-fallback") { Description = "Write weights with no exact ggml type dequantized to F32 instead of failing." };
        var target = new Option<string?>("--target") { Description = "Compile for a device into the artifact directory -o: cpu (kernels built ahead of time for this CPU, weights memory-mapped at load), gpu (packed weights; ILGPU compiles the kernels for the GPU found at load) or fpga (a generated accelerator: RTL, memory image, decode and prefill-chunk programs; runs on the Verilated RTL)." };
        var fpgaDevice = new Option<string>("--fpga-device") { Description = "fpga: the device description the accelerator is sized and checked for: a built-in name (u280, zcu104) or a devices/*.json file.", DefaultValueFactory = _ => "u280" };
        var maxContext = new Option<int?>("--max-context") { Description = "fpga: tokens of KV cache the accelerator's external memory holds (default: the model's positions, at most 2048)." };
        var chunk = new Option<int>("--chunk") { Description = "fpga: the most prompt tokens one prefill step takes (the on-chip activations grow with it); 1 compiles decode programs only.", DefaultValueFactory = _ => Backends.Fpga.Compilation.FpgaCompilation.DefaultChunkTokens };
        var fpgaCores = new Option<int?>("--fpga-cores") { Description = "fpga: matrix cores, a power of two up to 64, each on a memory channel (group) of its own (default: what fills the device)." };
        var fpgaBeat = new Option<int?>("--fpga-beat") { Description = "fpga: bytes of each core's port beat, 16, 32 or 64; a core has two lanes a byte (default: what fills the device)." };
        var fpgaLanes = new Option<int?>("--fpga-lanes") { Description = "fpga: lanes of each core, 32, 64 or 128, at most two a byte of the beat; fewer suit N:M rows (default: two a byte of the beat, or what the device's fit chose)." };
        var noSynthesis = new Option<bool>("--no-synthesis") { Description = "fpga: skip Yosys (synth_xilinx), so no resource counts and no check that the design fits the device." };
        var placement = ModelArguments.Placement();
        var lut = ModelArguments.Lut();
        var command = new Command("compile", "Compress a model with a recipe and write it, or compile it for a device.") { model, recipe, outPath, fallback, target, placement, lut, fpgaDevice, maxContext, chunk, fpgaCores, fpgaBeat, fpgaLanes, noSynthesis };
        command.SetAction(parse =>
        {
            using var m = ModelLoader.Load(parse.GetValue(model)!);
            var store = parse.GetValue(recipe) is { } r ? RecipeRunner.Apply(m, r, line => output.WriteLine(line)) : new IR.Weights.LayeredWeightStore(m.Weights);
            string path = parse.GetValue(outPath)!;
            if (parse.GetValue(placement) is { } spec)
            {
                if (parse.GetValue(target) is { } t) throw new CodesignException($"--target {t} and --placement exclude each other: the placement names the devices");
                WritePlaced(output, m, store, spec, path, parse.GetValue(lut), parse.GetValue(recipe), parse.InvocationConfiguration.Error);
                return 0;
            }
            if (parse.GetValue(target) is { } device)
            {
                if (device == "gpu")
                {
                    var gpu = ArtifactWriter.WriteGpu(m, store, path, parse.GetValue(recipe)).Devices.Gpu!;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"wrote {path}: gpu artifact, {gpu.Weights.Count} weights ({new FileInfo(Path.Combine(path, gpu.WeightsFile)).Length} bytes), kernels:"));
                    foreach (var k in gpu.Kernels) output.WriteLine($"  {k}");
                    return 0;
                }
                if (device == "fpga")
                {
                    var fpgaTarget = FpgaDevices.Load(parse.GetValue(fpgaDevice)!);
                    int? cores = parse.GetValue(fpgaCores), beat = parse.GetValue(fpgaBeat), lanes = parse.GetValue(fpgaLanes);
                    if (lanes is { } l && l % 2 != 0) throw new CodesignException($"--fpga-lanes {l}: two lanes a byte of a lane beat, so 32, 64 or 128");
                    AcceleratorShape? shape = null;
                    if (cores is { } c && beat is { } w) shape = new AcceleratorShape(c, w, lanes / 2).Checked();
                    else if (cores is not null || beat is not null || lanes is not null)
                    {
                        // some given: the others as the device's fit would have them (lanes two a byte of a given beat)
                        var fit = FitFor(m, store, fpgaTarget, parse.GetValue(maxContext), parse.GetValue(lut) != Backends.Cpu.Lowering.LutChoice.Never, parse.GetValue(chunk));
                        shape = new AcceleratorShape(cores ?? fit.Cores, beat ?? fit.BeatBytes, lanes / 2 ?? (beat is null ? fit.LaneBeatBytes : null)).Checked();
                    }
                    WriteFpga(output, m, store, path, fpgaTarget, parse.GetValue(maxContext), !parse.GetValue(noSynthesis), parse.GetValue(recipe),
                        lutEngine: parse.GetValue(lut) != Backends.Cpu.Lowering.LutChoice.Never, parse.GetValue(chunk), shape);
                    return 0;
                }
                if (device != "cpu") throw new CodesignException($"--target {device}: the targets are: cpu, gpu, fpga");
                var manifest = ArtifactWriter.WriteCpu(m, store, path, parse.GetValue(lut), parse.GetValue(recipe));
                var cpu = manifest.Devices.Cpu!;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {path}: cpu artifact, {cpu.Target.Kernels.Count} kernels for {cpu.Target.Cpu}, {cpu.Weights.Count} weight buffers ({new FileInfo(Path.Combine(path, cpu.WeightsFile)).Length} bytes), {cpu.LutDecisions.Count(d => d.Lut)} of {cpu.LutDecisions.Count} quantized layers as LUT-mpGEMM"));
                return 0;
            }
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                GgufExporter.Export(m.Graph, store, path, GgufVocabularies.Of(m), parse.GetValue(fallback));
            else if (path.EndsWith(".cir", StringComparison.OrdinalIgnoreCase))
                File.WriteAllText(path, GraphPrinter.Print(m.Graph));
            else
                throw new CodesignException($"{path}: write OUT.gguf or OUT.cir, or an artifact directory with --target cpu");
            var footprint = WeightFootprint.Of(m.Graph, store);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {path}: weights {footprint.TotalBytes} bytes, compressed layers at {footprint.CompressedBitsPerWeight:F3} bits/weight"));
            return 0;
        });
        return command;
    }

    /// <summary>The cores that fill <paramref name="device"/> for the compressed model.</summary>
    private static AcceleratorShape FitFor(ImportedModel model, IR.Weights.IWeightStore store, FpgaDevice device, int? maxContext, bool lutEngine, int chunkTokens)
    {
        int context = maxContext ?? Math.Min(CausalLmGraph.Check(model.Graph).MaxPositions, DefaultMaxContext);
        var graph = lutEngine ? Backends.Fpga.Compilation.LutEngineLowering.Apply(model.Graph) : model.Graph;
        return Backends.Fpga.Compilation.FpgaCompilation.Fit(graph,
            w => Backends.Fpga.Simulation.FpgaMemoryImage.SystemBytes(w, IR.Semantics.GraphBinding.Weight(w, store).Data.Length), context, Math.Min(chunkTokens, context), device).Shape;
    }

    private static void WriteFpga(TextWriter output, ImportedModel model, IR.Weights.IWeightStore store, string path, FpgaDevice device, int? maxContext, bool synthesize, string? recipe,
        bool lutEngine, int chunkTokens, AcceleratorShape? requested)
    {
        int context = maxContext ?? Math.Min(CausalLmGraph.Check(model.Graph).MaxPositions, DefaultMaxContext);
        var fpga = ArtifactWriter.WriteFpga(model, store, path, device, context, synthesize, recipe, lutEngine, chunkTokens, requested).Devices.Fpga!;
        var shape = fpga.Cores.Shape;
        var b = fpga.Buffers;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {path}: fpga artifact for the {device.Name} ({device.Part}), KV cache for {fpga.MaxContext} tokens, external memory {fpga.ExternalBytes} bytes ({new FileInfo(Path.Combine(path, fpga.MemoryFile)).Length} loaded)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  on chip: activations {b.ActivationUnits * 16L} bytes, KV tiles 2 x {b.KvUnits * 16L} bytes, parameters {b.ParameterUnits * 16L} bytes; instruction memory {fpga.ProgramDepth} instructions"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  programs: {fpga.Decode.Count} decode and {fpga.Prefill.Count} prefill-chunk (up to {fpga.Io.ChunkTokens} tokens) length buckets, {fpga.Storage.Bytes} bytes; one program per length would take {fpga.Storage.OneProgramPerLengthBytes} bytes ({(double)fpga.Storage.OneProgramPerLengthBytes / fpga.Storage.Bytes:F1}x)"));
        var port = Backends.Fpga.Simulation.CorePort.Of(device, shape);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  matrix cores: {shape}{(requested is null ? " (what fills the device)" : "")}, each a port of {port.BytesPerCycle:0.#} bytes/cycle on the {device.WeightMemory.Name} ({fpga.CoreBytes} bytes a channel); estimated {CoreFit.Estimate(shape, fpga.Cores.Mux, CoreFit.Shared(fpga.Buffers, fpga.ProgramDepth, fpga.LegacyMatrix, fpga.Binary32Engine)).Summary}{(fpga.LegacyMatrix ? "; with the single-port matrix engine" : "")}{(fpga.Binary32Engine ? "" : "; no binary32 engine (every matrix and attention on the cores)")}"));
        output.WriteLine($"  rtl: {fpga.RtlFiles.Count} files in {Path.GetDirectoryName(fpga.RtlFiles[0])}");
        if (fpga.Resources is { } r)
        {
            var d = device.Resources;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  yosys synth_xilinx -family {device.Family}: DSP {r.Dsp} of {d.Dsp}, LUT {r.Lut} of {d.Lut}, FF {r.Ff} of {d.Ff}, BRAM36 {r.Bram36} of {d.Bram36}, URAM {r.Uram} of {d.Uram} (accumulators Vivado would fold into DSP slices counted in LUT and FF)"));
            if (r.Depth is { } depth)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  logic depth: deepest register-to-register path {depth.Deepest:0.##} LUT levels ({string.Join(" -> ", depth.PathByUnit[depth.DeepestUnit])}); estimated Fmax {TimingEstimate.FmaxMhz(depth.Deepest):0} MHz against the device's {device.ClockMhz:0} MHz, which allows {TimingEstimate.LevelBudget(device.ClockMhz):0} (an estimate at {TimingEstimate.LevelNs} ns a level, not a timing analysis)"));
            else output.WriteLine($"  logic depth: not measured (the netlist is over the {LogicDepth.MaxNetlistBytes >> 30} GiB the analysis reads)");
        }
        else output.WriteLine("  not synthesised (--no-synthesis): no resource counts, and no check that the design fits the device");
    }

    /// <summary>The KV cache an fpga artifact holds unless --max-context says otherwise, for a model with more positions.</summary>
    private const int DefaultMaxContext = 2048;

    private static void WritePlaced(TextWriter output, ImportedModel model, IR.Weights.IWeightStore store, string spec, string path, Backends.Cpu.Lowering.LutChoice lut, string? recipe, TextWriter notices)
    {
        PartitionPlan plan;
        using (var devices = new SegmentDevices(0, notices.WriteLine))
            plan = GraphPartitioner.Split(PartitionedSessions.Place(spec, model.Graph, store, ArtifactSchedule.Devices, devices));
        var manifest = ArtifactWriter.WritePlaced(model, store, plan, spec, path, lut, recipe);
        output.WriteLine($"wrote {path}: placed artifact ({spec}), {plan.Segments.Count} segments, {plan.Transfers.Count(t => t.From != t.To)} transfers; {plan.Placement.Summary()}");
        foreach (var (segment, line) in manifest.Schedule!.Segments.Zip(plan.Describe()))
            output.WriteLine($"  {line} -> {segment.GraphFile}");
    }
}
