using System.Diagnostics;
using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using Codesign.Runtime.Devices;

/// <summary>
/// Decode on a LLaMA-7B-shaped model (hidden 4096, MLP 11008, 32 heads, vocabulary 32000) with random weights
/// packed directly in our quantized layout: every linear layer including lm_head at the scheme, the embedding
/// table f32 (one row is read per token). Reported beside the roofline measured in the same run: the bytes the
/// kernels read per token (the weights in the forms they read) over this machine's read bandwidth.
/// </summary>
internal static class Cpu7bDecodeBenchmark
{
    /// <param name="only">Run only the weight formats whose label contains this; null: all.</param>
    public static void Run(int layers, string? only = null)
    {
        var config = Llama7bConfig(layers);
        double bandwidth = CpuGemvBenchmark.ReadBandwidth(2);
        Console.WriteLine($"LLaMA-7B shapes, {layers} layers; memory read bandwidth at 2 threads: {bandwidth:F1} GB/s");
        Console.WriteLine();
        Console.WriteLine("| weights | kernels | weight bytes read / token | prepare + compile (s) | decode ms/token (median) | tokens/s | roofline ms/token | of roofline |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, scheme) in new[] { ("W4 g128 asym", QuantScheme.Create(4, 128, false, DType.F16)), ("W4 g32 sym (Q4_0-like)", QuantScheme.Create(4, 32, true, DType.F16)), ("W2 g32 asym", QuantScheme.Create(2, 32, false, DType.F16)) })
        {
            if (only is not null && !label.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var store = RandomModel(config, scheme);
            var graph = LlamaGraphBuilder.Build("llama_7b_shape", config, store, "random");
            foreach (var lut in new[] { LutChoice.Always, LutChoice.Never })
            {
                var clock = Stopwatch.StartNew();
                using var program = CpuProgram.Compile(graph, store, threads: 2, lut: lut);
                double prepare = clock.Elapsed.TotalSeconds;
                // Only the embedding row of each token is read from the table; everything else is streamed once.
                long bytes = program.Weights.All.Sum(w => w.Key == "model.embed_tokens.weight" ? 0 : w.Weight.Buffers.Sum(b => b.Bytes));
                var session = new CpuSession(program);
                session.Forward([1, 450, 4996, 310, 3444, 338, 263, 2107]);
                var steps = new double[24];
                for (int i = 0; i < steps.Length; i++)
                {
                    var step = Stopwatch.StartNew();
                    session.Forward([100 + i]);
                    steps[i] = step.Elapsed.TotalMilliseconds;
                }
                Array.Sort(steps);
                double ms = steps[steps.Length / 2], roofline = bytes / bandwidth / 1e6;
                Console.WriteLine($"| {label} | {(lut == LutChoice.Always ? "LUT-mpGEMM" : "dequantizing")} | {bytes / 1e9:F2} GB | {prepare:F0} | {ms:F1} | {1e3 / ms:F2} | {roofline:F1} | {roofline / ms:P0} |");
            }
        }
    }

    /// <summary>LLaMA-(2-)7B's shapes with <paramref name="layers"/> layers.</summary>
    internal static LlamaConfig Llama7bConfig(int layers) => new()
    {
        ModelType = "llama", HiddenSize = 4096, IntermediateSize = 11008, NumLayers = layers, NumHeads = 32, NumKvHeads = 32,
        HeadDim = 128, VocabSize = 32000, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = false, MaxPositionEmbeddings = 4096,
    };

    /// <summary>Random codes, f16 scales and zero points written straight into the packed layout (no quantization run).</summary>
    internal static LayeredWeightStore RandomModel(LlamaConfig c, QuantScheme scheme)
    {
        var store = new LayeredWeightStore();
        var r = new Random(7);
        void Dense(string key, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, d) => a * d)];
            for (long i = 0; i < values.LongLength; i++) values[i] = (float)(r.NextDouble() - 0.5) * 0.1f + (shape.Length == 1 ? 1f : 0f);
            store.Set(WeightTensor.FromFloats(key, DType.F32, shape, values));
        }
        void Quantized(string key, int rows, int cols) => store.Set(RandomPacked.Quantized(r, key, scheme, rows, cols));
        Dense("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Dense(p + "input_layernorm.weight", c.HiddenSize);
            Dense(p + "post_attention_layernorm.weight", c.HiddenSize);
            int q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim;
            Quantized(p + "self_attn.q_proj.weight", q, c.HiddenSize);
            Quantized(p + "self_attn.k_proj.weight", kv, c.HiddenSize);
            Quantized(p + "self_attn.v_proj.weight", kv, c.HiddenSize);
            Quantized(p + "self_attn.o_proj.weight", c.HiddenSize, q);
            Quantized(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize);
            Quantized(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize);
            Quantized(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize);
        }
        Dense("model.norm.weight", c.HiddenSize);
        Quantized("lm_head.weight", c.VocabSize, c.HiddenSize);
        return store;
    }
}
