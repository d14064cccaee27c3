using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Quantization;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.IR.Values;

/// <summary>
/// Decode of a LLaMA-2-7B-shaped model on the generated accelerator, extrapolated by the performance model (checked
/// against the Verilated RTL: exact per core instruction, within 10 % per step on tiny-llama-a) onto the U280
/// description with the matrix cores CoreFit chooses for it: the decode program of a 1-layer and a 2-layer model are
/// compiled and predicted, and 32 layers are the first plus 31 times the difference, dense W4A8, with every linear layer
/// 2:4-sparse (each with an int8 cache and attention on the cores, or an f32 cache on the binary32 engine), and W4 on
/// the LUT-mpGEMM engine; and a 128-token prompt's prefill. Printed beside FlightLLM's published U280 figures. Then the
/// ZCU104: 7B's weights against its 2 GB, and TinyLlama-1.1B's shapes (22 layers extrapolated the same way) on the cores
/// CoreFit chooses for it, against its DDR4's bound.
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
        var dense = Estimate("W4A8 g128, int8 KV, attention on the cores", null, lutEngine: false, kv8: true, scheme, port, u280, clock, hbm.GbytesPerSecond, prefill: true);
        var sparse = Estimate("W4A8 g128 2:4, int8 KV, attention on the cores", SparseFormat.NOfM(2, 4), lutEngine: false, kv8: true, scheme, port, u280, clock, hbm.GbytesPerSecond, prefill: true);
        rows.AddRange(dense.Rows);
        rows.AddRange(sparse.Rows);
        rows.AddRange(Estimate("W4A8 g128, f32 KV (binary32 attention)", null, lutEngine: false, kv8: false, scheme, port, u280, clock, hbm.GbytesPerSecond).Rows);
        rows.AddRange(Estimate("W4A8 g128 2:4, f32 KV", SparseFormat.NOfM(2, 4), lutEngine: false, kv8: false, scheme, port, u280, clock, hbm.GbytesPerSecond).Rows);
        rows.AddRange(Estimate("W4 g128, LUT engine", null, lutEngine: true, kv8: false, scheme, port, u280, clock, hbm.GbytesPerSecond).Rows);
        Console.WriteLine();
        Console.WriteLine("| weights | context | cycles / token | of which matrix | of which attention | of which sfu | of which load/store | tokens/s | weight+KV bytes / token | bandwidth used | of HBM peak | MACs / cycle | of the cores' lanes |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine("Prefill of a 128-token prompt in the largest chunks the activation buffer takes (at most the compiler's default of 8): each core streams its weights once per activation row, so a chunk of T tokens costs about T decode steps' matrices");
        Console.WriteLine();
        Console.WriteLine("| weights | chunk | cycles (128 tokens) | of which matrix | tokens/s | decode tokens/s at context 128 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(dense.Prefill);
        Console.WriteLine(sparse.Prefill);
        Console.WriteLine();
        Storage(scheme);
        Console.WriteLine();
        Console.WriteLine("FlightLLM on the U280 (Zeng et al., FPGA '24, as digested in shared/papers.md): LLaMA2-7B batch 1 decode at 225 MHz, **55 tokens/s**, 45 W;");
        Console.WriteLine("bandwidth utilisation 65.9 % of HBM (35.6 % before its always-on-chip decode and instruction optimisations); 6,345 DSP, 1,252 BRAM, 792 URAM used.");
        Console.WriteLine();
        Zcu104(scheme, dense.ModelBytes);
    }

    /// <summary>TinyLlama-1.1B's shapes (22 layers, GQA with 4 kv heads of 64).</summary>
    private static LlamaConfig TinyLlamaConfig(int layers) => new()
    {
        ModelType = "llama", HiddenSize = 2048, IntermediateSize = 5632, NumLayers = layers, NumHeads = 32, NumKvHeads = 4,
        HeadDim = 64, VocabSize = 32000, RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = false, MaxPositionEmbeddings = 2048,
    };

    /// <summary>
    /// The ZCU104: LLaMA-2-7B's weights against the board's memory, and TinyLlama-1.1B's shapes decoding on the cores
    /// CoreFit chooses for it, with their share of the DDR4's bound (bytes a token over its 19.2 GB/s).
    /// </summary>
    private static void Zcu104(QuantScheme scheme, long sevenBBytes)
    {
        var zcu = FpgaDevices.Load("zcu104");
        var ddr = zcu.WeightMemory;
        long capacity = zcu.Memories.Sum(m => m.Bytes);
        Console.WriteLine($"ZCU104 ({zcu.Part}, {zcu.ClockMhz} MHz, {ddr.Name} {ddr.GbytesPerSecond} GB/s, {capacity / (1L << 30)} GB):");
        Console.WriteLine($"  LLaMA-2-7B W4 g128 is {sevenBBytes / 1e9:F2} GB of weights and tables: {(sevenBBytes > capacity ? "more than the board's memory, so no 7B figure" : "within the board's memory")}; at the DDR4's peak it would be at most {ddr.GbytesPerSecond * 1e9 / sevenBBytes:F1} tokens/s.");
        var rows = new List<string>();
        var port = MemoryPort.Of(zcu);
        double clock = zcu.ClockMhz * 1e6;
        foreach (var (label, sparsity) in new[] { ("TinyLlama-1.1B shapes, W4A8 g128, int8 KV on the cores", (SparseFormat?)null), ("TinyLlama-1.1B shapes, W4A8 g128 2:4, int8 KV on the cores", SparseFormat.NOfM(2, 4)) })
            try
            {
                rows.AddRange(Estimate(label, sparsity, lutEngine: false, kv8: true, scheme, port, zcu, clock, ddr.GbytesPerSecond, model: TinyLlamaConfig, totalLayers: 22).Rows);
            }
            catch (CodesignException e)
            {
                Console.WriteLine($"  {label}: {e.Message}");
            }
        if (rows.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine("| weights | context | cycles / token | of which matrix | of which attention | of which sfu | of which load/store | tokens/s | weight+KV bytes / token | bandwidth used | of the DDR4's bound | MACs / cycle | of the cores' lanes |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
    }

    /// <param name="prefill">Also a 128-token prompt's prefill on the same graphs (<see cref="PrefillCycles"/>): the last item, a table row.</param>
    /// <param name="model">The model's shapes by layer count (LLaMA-2-7B's by default), and <paramref name="totalLayers"/> its layers.</param>
    /// <returns>The table's rows, tokens/s by context, the prefill row, and the model's packed weights and tables in bytes.</returns>
    private static (List<string> Rows, List<double> TokensPerSecond, string? Prefill, long ModelBytes) Estimate(string label, SparseFormat? sparsity, bool lutEngine, bool kv8, QuantScheme scheme,
        MemoryPort port, FpgaDevice device, double clock, double hbmGbytesPerSecond, bool prefill = false, Func<int, LlamaConfig>? model = null, int totalLayers = 32)
    {
        model ??= Cpu7bDecodeBenchmark.Llama7bConfig;
        long Extrapolate(long oneLayer, long twoLayers) => Fpga7bEstimate.Extrapolate(oneLayer, twoLayers, totalLayers);
        var prefillTotals = new Dictionary<int, (long Cycles, long Matrix)>();
        int chunk = 0;
        var perLayers = new Dictionary<int, (ProgramPrediction Prediction, long Bytes, long Macs)[]>();
        var modelBytes = new Dictionary<int, long>();
        int[] contexts = [128, 512, 1024, 2048];
        AcceleratorShape? shape = null;
        CorePort? corePort = null;
        foreach (int layers in new[] { 1, 2 })
        {
            var (graph, bytes) = AcceleratorGraph(model(layers), sparsity, lutEngine, scheme, kv8);
            modelBytes[layers] = bytes.Values.Sum();
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
            if (prefill) prefillTotals[layers] = PrefillCycles(graph, bytes, port, device, ref chunk);
        }
        var rows = new List<string>();
        var tokensPerSecond = new List<double>();
        for (int c = 0; c < contexts.Length; c++)
        {
            var (one, two) = (perLayers[1][c], perLayers[2][c]);
            long Class(string name) => Extrapolate(one.Prediction.ByClass.GetValueOrDefault(name), two.Prediction.ByClass.GetValueOrDefault(name));
            long cycles = Extrapolate(one.Prediction.Total, two.Prediction.Total);
            long matrix = Class("matvec"), attention = Class("attention");
            long sfu = one.Prediction.ByClass.Keys.Where(k => k.StartsWith("sfu.", StringComparison.Ordinal)).Sum(Class);
            long bytes = Extrapolate(one.Bytes, two.Bytes), macs = Extrapolate(one.Macs, two.Macs);
            double tokens = clock / cycles, bandwidth = bytes * tokens / 1e9;
            tokensPerSecond.Add(tokens);
            long transfers = Class("load") + Class("store") + Class("gather");
            if (c == 0)
                Console.WriteLine($"  {label}, context {contexts[c]}, cycles a token by class: " + string.Join(", ", one.Prediction.ByClass.Keys
                    .Select(k => (Name: k, Cycles: Class(k))).OrderByDescending(k => k.Cycles).Select(k => $"{k.Name} {k.Cycles:N0}")));
            rows.Add($"| {label} | {contexts[c]} | {cycles:N0} | {(double)matrix / cycles:P0} | {(double)attention / cycles:P0} | {(double)sfu / cycles:P0} | {(double)transfers / cycles:P0} | {tokens:F3} | {bytes / 1e9:F2} GB | {bandwidth:F2} GB/s | {bandwidth / hbmGbytesPerSecond:P2} | {(double)macs / cycles:F2} | {(double)macs / cycles / (shape!.Cores * shape.Lanes):P0} |");
        }
        string? prefillRow = null;
        if (prefill)
        {
            long total = Extrapolate(prefillTotals[1].Cycles, prefillTotals[2].Cycles), matrices = Extrapolate(prefillTotals[1].Matrix, prefillTotals[2].Matrix);
            prefillRow = $"| {label} | {chunk} | {total:N0} | {(double)matrices / total:P0} | {PromptTokens * clock / total:F2} | {tokensPerSecond[0]:F2} |";
        }
        return (rows, tokensPerSecond, prefillRow, Extrapolate(modelBytes[1], modelBytes[2]));
    }

    private const int PromptTokens = 128;

    /// <summary>
    /// A 128-token prompt through prefill chunks on <paramref name="graph"/> (chunk k of T tokens ends at context kT; the
    /// last may be shorter): its cycles and their matrices' share, each chunk's program predicted with the cores sized for
    /// chunks of T. T is <paramref name="chunk"/>, or where that is 0 the largest up to the compiler's default whose rows
    /// the on-chip buffers hold, which it is set to.
    /// </summary>
    private static (long Cycles, long Matrix) PrefillCycles(Graph graph, Dictionary<string, long> bytes, MemoryPort port, FpgaDevice device, ref int chunk)
    {
        long Bytes(Value w) => bytes[w.WeightKey!];
        (InstructionProgram Program, PerformanceModel Model) Compiled(int t)
        {
            var shape = FpgaCompilation.Fit(graph, Bytes, PromptTokens, t, device).Shape;
            var cores = CoreAssignment.For(graph, shape, PromptTokens);
            var plan = FpgaMemoryPlan.For(graph, Bytes, maxContext: PromptTokens, chunkTokens: t, cores);
            return (InstructionCompiler.Compile(graph, plan, decode: false, maxContext: PromptTokens), new PerformanceModel(port) { Cores = cores.Design, CorePort = CorePort.Of(device, shape) });
        }
        (InstructionProgram Program, PerformanceModel Model)? compiled = null;
        if (chunk != 0) compiled = Compiled(chunk);
        else
            // the compiler refuses a chunk whose rows the on-chip buffers do not hold
            for (int t = FpgaCompilation.DefaultChunkTokens; t >= 1 && compiled is null; t--)
            {
                try
                {
                    compiled = Compiled(t);
                    chunk = t;
                }
                catch (CodesignException)
                {
                }
            }
        var (program, model) = compiled ?? throw new InvalidOperationException("not even a prefill chunk of one token compiles");
        long cycles = 0, matrix = 0;
        for (int done = 0; done < PromptTokens; done += chunk)
        {
            int tokens = Math.Min(chunk, PromptTokens - done);
            var step = program.Patched(tokens, done + tokens);
            var prediction = model.Predict(step);
            if (prediction.Unpredicted.Count > 0) throw new InvalidOperationException($"no prediction for {step[prediction.Unpredicted[0]]}");
            cycles += prediction.Total;
            matrix += prediction.ByClass.GetValueOrDefault("matvec");
        }
        return (cycles, matrix);
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
            var (graph, bytes) = AcceleratorGraph(Cpu7bDecodeBenchmark.Llama7bConfig(layers), null, lutEngine: false, scheme, kv8: false);
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

    /// <summary>A figure for <paramref name="layers"/> layers from the 1-layer and 2-layer ones: the first layer and the rest of the difference.</summary>
    private static long Extrapolate(long oneLayer, long twoLayers, int layers = 32) => oneLayer + (layers - 1) * (twoLayers - oneLayer);

    /// <summary>
    /// A model of <paramref name="config"/>'s shapes with random <paramref name="scheme"/> weights as the accelerator
    /// runs it (its linear layers on the LUT engine, or with int8 activations and <paramref name="sparsity"/>; with
    /// <paramref name="kv8"/> an int8 cache and integer attention, which the matrix cores run), and each weight's packed
    /// bytes by weight key (the LUT lowering copies the graph).
    /// </summary>
    private static (Graph Graph, Dictionary<string, long> Bytes) AcceleratorGraph(LlamaConfig config, SparseFormat? sparsity, bool lutEngine, QuantScheme scheme, bool kv8)
    {
        var store = Cpu7bDecodeBenchmark.RandomModel(config, scheme);
        var graph = LlamaGraphBuilder.Build("llama_7b_shape", config, store, "random");
        var bytes = graph.Weights.ToDictionary(w => w.WeightKey!, w => (long)GraphBinding.Weight(w, store).Data.Length);
        if (lutEngine) graph = LutEngineLowering.Apply(graph);
        else Int8Activations(graph, sparsity, bytes);
        if (kv8)
            foreach (var node in graph.Nodes.Where(n => n.Op is AttentionOp).ToList())
                graph.ReplaceNode(node, ((AttentionOp)node.Op).WithKvBits(8, 8), node.Inputs);
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

    /// <summary>A step's instructions up to its END, each with the attention shape the cores hold when it runs.</summary>
    private static IEnumerable<(Instruction Instruction, CoreAttentionShape Shape)> WithAttentionShapes(IReadOnlyList<Instruction> step)
    {
        CoreAttentionShape shape = default;
        foreach (var i in step.TakeWhile(i => i.Op != Opcode.End))
        {
            if (i.Op == Opcode.CoreAttentionShape) shape = CoreAttentionShape.Of(i);
            yield return (i, shape);
        }
    }

    /// <summary>
    /// Bytes a step moves over the memory ports: every load and store, the weights the matrix instructions stream, the
    /// gathered rows, and the int8 caches the cores read and write (each core its kv head's keys and scales per query row,
    /// its value codes up to the stride and their row scales; a code and (keys) a scale per appended row).
    /// </summary>
    private static long Traffic(IReadOnlyList<Instruction> step)
    {
        long bytes = 0;
        foreach (var (i, shape) in WithAttentionShapes(step))
        {
            var a = CoreAttentionOperands.Is(i) ? CoreAttentionOperands.Of(i) : default;
            bytes += i.Op switch
            {
                Opcode.Load or Opcode.Store => i.C,
                Opcode.Gather => (long)i.B * i.C,
                Opcode.MatVec or Opcode.MatMat when !MatrixFormat.IsAttention(i.Function) => WeightBytes(i),
                Opcode.CoreMatVec or Opcode.CoreMatMat => WeightBytes(i),
                Opcode.CoreScores => (long)a.KvHeads * a.Tokens * shape.QueryGroup * a.Keys * (shape.HeadDim + 4),
                Opcode.CoreValues => (long)a.KvHeads * a.Tokens * shape.QueryGroup * shape.HeadDim * (shape.Stride + 4),
                Opcode.CoreAppend => (long)a.KvHeads * a.Tokens * (shape.HeadDim + (a.Values ? 0 : 4)),
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
        // a core instruction's bit 5 is ReuseCodes, not the single-port engine's block-sparse flag
        if (!CoreMatrixOperands.Is(i) && MatrixFormat.IsBlockSparse(i.Function)) throw new InvalidOperationException("the 7B estimate's graphs are dense or N:M-sparse");
        if ((i.Function & MatrixFormat.Sparse) == 0) return new QuantizedLayout(scheme, n, k).TotalBytes;
        var (keep, of) = MatrixLayout.PatternOf(i.Layout);
        return SparseLayout.NOfM(SparseFormat.NOfM(keep, of), DType.Quantized(scheme), n, k).TotalBytes;
    }

    /// <summary>Multiply-accumulates of the step's matrix and attention products (of an N:M-sparse matrix, its kept weights' only: the DSPs' work).</summary>
    private static long Macs(IReadOnlyList<Instruction> step)
    {
        long macs = 0;
        foreach (var (i, shape) in WithAttentionShapes(step))
        {
            if (i.Op is Opcode.CoreScores or Opcode.CoreValues)
            {
                var a = CoreAttentionOperands.Of(i);
                macs += (long)a.KvHeads * a.Tokens * shape.QueryGroup * shape.HeadDim * (i.Op == Opcode.CoreScores ? a.Keys : shape.Stride);
            }
            else if (i.Op is Opcode.MatVec or Opcode.MatMat or Opcode.CoreMatVec or Opcode.CoreMatMat)
                macs += (long)(i.B >> 16) * (i.B & 0xffff)
                    * (MatrixFormat.IsAttention(i.Function) ? (i.C & 0xffff) * Math.Max(1, i.C >> 16) : Math.Max(1, i.C >> 16))
                    / ((CoreMatrixOperands.Is(i) ? CoreMatrixOperands.Of(i).Sparse : MatrixFormat.IsNOfM(i.Function)) ? MatrixLayout.PatternOf(i.Layout).M / MatrixLayout.PatternOf(i.Layout).N : 1);
        }
        return macs;
    }
}
