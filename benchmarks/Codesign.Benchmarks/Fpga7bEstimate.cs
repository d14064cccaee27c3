using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Quantization;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

/// <summary>
/// Decode of a LLaMA-2-7B-shaped model on the generated accelerator, extrapolated by the performance model (checked
/// against the Verilated RTL: exact per core instruction, within 10 % per step on tiny-llama-a) onto the U280
/// description with the matrix cores CoreFit chooses for it: the decode program of a 1-layer and a 2-layer model are
/// compiled and predicted, and 32 layers are the first plus 31 times the difference, dense W4A8, with every linear layer
/// 2:4-sparse, and W4 on the LUT-mpGEMM engine. Printed beside FlightLLM's published U280 figures.
/// </summary>
internal static class Fpga7bEstimate
{
    public static void Run()
    {
        var u280 = FpgaDevices.Load("u280");
        var hbm = u280.WeightMemory;
        double clock = u280.ClockMhz * 1e6;
        // The generated design's port moves one 16-byte beat a cycle; HBM's latency from the device description.
        var port = MemoryPort.Of(u280);
        Console.WriteLine($"LLaMA-2-7B shapes (hidden 4096, MLP 11008, 32 heads, vocabulary 32000), W4 g128 asym, activations int8, decode batch 1");
        Console.WriteLine($"device {u280.Name}: {u280.ClockMhz} MHz, {hbm.Name} {hbm.GbytesPerSecond} GB/s in {hbm.Channels} channels; system port {port.BytesPerCycle} bytes/cycle after {port.LatencyCycles} cycles on the {u280.SystemMemory.Name}; the matrix cores CoreFit chooses for each model:");
        Console.WriteLine();
        var scheme = QuantScheme.Create(4, 128, false, DType.F16);
        var rows = new List<string>();
        rows.AddRange(Estimate("W4A8 g128", null, lutEngine: false, scheme, port, u280, clock, hbm.GbytesPerSecond));
        rows.AddRange(Estimate("W4A8 g128 2:4", SparseFormat.NOfM(2, 4), lutEngine: false, scheme, port, u280, clock, hbm.GbytesPerSecond));
        rows.AddRange(Estimate("W4 g128, LUT engine", null, lutEngine: true, scheme, port, u280, clock, hbm.GbytesPerSecond));
        Console.WriteLine();
        Console.WriteLine("| weights | context | cycles / token | of which matrix | of which attention | of which sfu | of which load/store | tokens/s | weight+KV bytes / token | bandwidth used | of HBM peak | MACs / cycle | of the cores' lanes |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine();
        Storage(scheme);
        Console.WriteLine();
        Console.WriteLine("FlightLLM on the U280 (Zeng et al., FPGA '24, as digested in shared/papers.md): LLaMA2-7B batch 1 decode at 225 MHz, **55 tokens/s**, 45 W;");
        Console.WriteLine("bandwidth utilisation 65.9 % of HBM (35.6 % before its always-on-chip decode and instruction optimisations); 6,345 DSP, 1,252 BRAM, 792 URAM used.");
    }

    private static List<string> Estimate(string label, SparseFormat? sparsity, bool lutEngine, QuantScheme scheme, MemoryPort port, FpgaDevice device,
        double clock, double hbmGbytesPerSecond)
    {
        var perLayers = new Dictionary<int, (ProgramPrediction Prediction, long Bytes, long Macs)[]>();
        int[] contexts = [128, 512, 1024, 2048];
        AcceleratorShape? shape = null;
        CorePort? corePort = null;
        foreach (int layers in new[] { 1, 2 })
        {
            var (graph, bytes) = AcceleratorGraph(layers, sparsity, lutEngine, scheme);
            if (shape is null)
            {
                var fit = FpgaCompilation.Fit(graph, w => bytes[w.WeightKey!], contexts.Max(), 1, device);
                shape = fit.Shape;
                corePort = CorePort.Of(device, shape);
                Console.WriteLine($"  {label}: {shape}, each a port of {corePort.BytesPerCycle:F1} bytes/cycle after {corePort.LatencyCycles} cycles; estimated {fit.Estimate.Summary}");
            }
            var cores = CoreAssignment.For(graph, shape, contexts.Max());
            var plan = FpgaMemoryPlan.For(graph, w => bytes[w.WeightKey!], maxContext: contexts.Max(), chunkTokens: 1, cores);
            perLayers[layers] = [.. contexts.Select(context =>
            {
                var step = InstructionCompiler.Compile(graph, plan, decode: true, maxContext: context).Patched(1, context);
                var prediction = new PerformanceModel(port) { Cores = cores.Design, CorePort = corePort! }.Predict(step);
                if (prediction.Unpredicted.Count > 0) throw new InvalidOperationException($"no prediction for {step[prediction.Unpredicted[0]]}");
                return (prediction, Traffic(step), Macs(step));
            })];
        }
        var rows = new List<string>();
        for (int c = 0; c < contexts.Length; c++)
        {
            var (one, two) = (perLayers[1][c], perLayers[2][c]);
            long Class(string name) => Extrapolate(one.Prediction.ByClass.GetValueOrDefault(name), two.Prediction.ByClass.GetValueOrDefault(name));
            long cycles = Extrapolate(one.Prediction.Total, two.Prediction.Total);
            long matrix = Class("matvec"), attention = Class("attention");
            long sfu = one.Prediction.ByClass.Keys.Where(k => k.StartsWith("sfu.", StringComparison.Ordinal)).Sum(Class);
            long bytes = Extrapolate(one.Bytes, two.Bytes), macs = Extrapolate(one.Macs, two.Macs);
            double tokens = clock / cycles, bandwidth = bytes * tokens / 1e9;
            long transfers = Class("load") + Class("store") + Class("gather");
            rows.Add($"| {label} | {contexts[c]} | {cycles:N0} | {(double)matrix / cycles:P0} | {(double)attention / cycles:P0} | {(double)sfu / cycles:P0} | {(double)transfers / cycles:P0} | {tokens:F3} | {bytes / 1e9:F2} GB | {bandwidth:F2} GB/s | {bandwidth / hbmGbytesPerSecond:P2} | {(double)macs / cycles:F2} | {(double)macs / cycles / (shape!.Cores * shape.Lanes):P0} |");
        }
        return rows;
    }

    /// <summary>
    /// Instruction storage of length-adaptive compilation for the 7B shape up to a context of 2048: a decode program per
    /// 16-token bucket and a prefill-chunk program per 128-token bucket, with their patch tables, against one program per
    /// length of each kind (instructions only). Compiled for 1 and 2 layers and extrapolated to 32 (programs grow by
    /// the same instructions per layer). The chunk does not change a program's instructions, only its operands.
    /// </summary>
    private static void Storage(QuantScheme scheme)
    {
        const int maxContext = 2048;
        var perLayers = new Dictionary<int, (long Adaptive, long PerLength, int Programs)>();
        foreach (int layers in new[] { 1, 2 })
        {
            var (graph, bytes) = AcceleratorGraph(layers, null, lutEngine: false, scheme);
            var plan = FpgaMemoryPlan.For(graph, w => bytes[w.WeightKey!], maxContext, chunkTokens: 2);
            var programs = LengthAdaptivePrograms.Compile(graph, plan);
            perLayers[layers] = (programs.Bytes, LengthAdaptivePrograms.BytesOfOneProgramPerLength(graph, plan), programs.Decode.Count + programs.Prefill.Count);
        }
        long adaptive = Extrapolate(perLayers[1].Adaptive, perLayers[2].Adaptive), perLength = Extrapolate(perLayers[1].PerLength, perLayers[2].PerLength);
        Console.WriteLine($"Instruction storage, 32 layers, contexts up to {maxContext} (decode and prefill chunk):");
        Console.WriteLine("| programs | count | bytes |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| one per context length, instructions only | {2 * maxContext} | {perLength:N0} |");
        Console.WriteLine($"| length-adaptive: per bucket (decode 16, prefill chunk 128), with patch tables | {perLayers[1].Programs} | {adaptive:N0} |");
        Console.WriteLine($"saved: {(double)perLength / adaptive:F1}x");
    }

    /// <summary>A 32-layer figure from the 1-layer and 2-layer ones: the first layer and 31 more of the difference.</summary>
    private static long Extrapolate(long oneLayer, long twoLayers) => oneLayer + 31 * (twoLayers - oneLayer);

    /// <summary>
    /// The 7B shape with <paramref name="layers"/> layers of random <paramref name="scheme"/> weights as the accelerator
    /// runs it (its linear layers on the LUT engine, or with int8 activations and <paramref name="sparsity"/>), and each
    /// weight's packed bytes by weight key (the LUT lowering copies the graph).
    /// </summary>
    private static (Graph Graph, Dictionary<string, long> Bytes) AcceleratorGraph(int layers, SparseFormat? sparsity, bool lutEngine, QuantScheme scheme)
    {
        var config = Cpu7bDecodeBenchmark.Llama7bConfig(layers);
        var store = Cpu7bDecodeBenchmark.RandomModel(config, scheme);
        var graph = LlamaGraphBuilder.Build("llama_7b_shape", config, store, "random");
        var bytes = graph.Weights.ToDictionary(w => w.WeightKey!, w => (long)GraphBinding.Weight(w, store).Data.Length);
        if (lutEngine) graph = LutEngineLowering.Apply(graph);
        else Int8Activations(graph, sparsity, bytes);
        return (graph, bytes);
    }

    /// <summary>
    /// The accelerator's graph: every quantized linear layer with int8 activations (act_bits = 8), and with
    /// <paramref name="sparsity"/> also pruned (the weight's type and packed size; the estimate needs no values).
    /// <paramref name="bytes"/> gets the pruned weights' packed sizes.
    /// </summary>
    private static void Int8Activations(Graph graph, SparseFormat? sparsity, Dictionary<string, long> bytes)
    {
        foreach (var node in graph.Nodes.Where(n => n.Op is QMatMulOp).ToList())
        {
            var w = node.Inputs[1];
            if (sparsity is null)
            {
                graph.ReplaceNode(node, new QMatMulOp(actBits: 8), node.Inputs);
                continue;
            }
            bytes[w.WeightKey!] = SparseLayout.NOfM(sparsity, w.Type.DType, (int)w.Type[0].Size, (int)w.Type[1].Size).TotalBytes;
            graph.RetypeWeight(w, DType.Sparse(sparsity, w.Type.DType));
            graph.ReplaceNode(node, new SpMatMulOp(8), node.Inputs);
        }
    }

    /// <summary>Bytes a step moves over the memory port: every load and store, the weights the matrix instructions stream and the gathered rows.</summary>
    private static long Traffic(IReadOnlyList<Instruction> step)
    {
        long bytes = 0;
        foreach (var i in step)
        {
            if (i.Op == Opcode.End) break;
            bytes += i.Op switch
            {
                Opcode.Load or Opcode.Store => i.C,
                Opcode.Gather => (long)i.B * i.C,
                Opcode.MatVec or Opcode.MatMat when !MatrixFormat.IsAttention(i.Function) => WeightBytes(i),
                Opcode.CoreMatVec or Opcode.CoreMatMat => WeightBytes(i),
                _ => 0,
            };
        }
        return bytes;
    }

    private static long WeightBytes(Instruction i)
    {
        int n = (int)(i.B >> 16), k = (int)(i.B & 0xffff), bits = MatrixFormat.WeightBits(i.Function);
        if (bits == 0) return (long)n * k * 4 * Math.Max(1, i.C >> 16);
        var scheme = MatrixLayout.Scheme(bits, (int)(i.C & 0xffff), k, i.Layout);
        if (MatrixFormat.IsBlockSparse(i.Function)) throw new InvalidOperationException("the 7B estimate's graphs are dense or N:M-sparse");
        if ((i.Function & MatrixFormat.Sparse) == 0) return new QuantizedLayout(scheme, n, k).TotalBytes;
        var (keep, of) = MatrixLayout.PatternOf(i.Layout);
        return SparseLayout.NOfM(SparseFormat.NOfM(keep, of), DType.Quantized(scheme), n, k).TotalBytes;
    }

    /// <summary>Multiply-accumulates of the step's matrix and attention products (of an N:M-sparse matrix, its kept weights' only: the DSPs' work).</summary>
    private static long Macs(IReadOnlyList<Instruction> step) => step.TakeWhile(i => i.Op != Opcode.End)
        .Where(i => i.Op is Opcode.MatVec or Opcode.MatMat or Opcode.CoreMatVec or Opcode.CoreMatMat)
        .Sum(i => (long)(i.B >> 16) * (i.B & 0xffff)
            * (MatrixFormat.IsAttention(i.Function) ? (i.C & 0xffff) * Math.Max(1, i.C >> 16) : Math.Max(1, i.C >> 16))
            / (MatrixFormat.IsNOfM(i.Function) ? MatrixLayout.PatternOf(i.Layout).M / MatrixLayout.PatternOf(i.Layout).N : 1));
}
