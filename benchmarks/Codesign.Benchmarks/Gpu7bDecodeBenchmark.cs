using System.Diagnostics;
using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.Runtime.Devices;

/// <summary>
/// Decode on the gpu device for a LLaMA-7B-shaped model with random W4 weights (the same model as cpu-decode-7b), beside
/// the memory-bound limit measured in the same run: the bytes a decode step reads (every weight but the embedding
/// table, in its device form) over the device's copy bandwidth.
/// </summary>
internal static class Gpu7bDecodeBenchmark
{
    public static void Run(int layers, int hidden = 4096, int ffn = 11008)
    {
        var config = new LlamaConfig
        {
            ModelType = "llama", HiddenSize = hidden, IntermediateSize = ffn, NumLayers = layers, NumHeads = hidden / 128, NumKvHeads = hidden / 128,
            HeadDim = 128, VocabSize = 32000, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = false, MaxPositionEmbeddings = 4096,
        };
        using var device = GpuBenchDevice.Open();
        double copy = GpuGemvBenchmark.CopyBandwidth(device, device.IsCuda ? 1 << 28 : 1 << 22);
        Console.WriteLine($"device: {device.Description}; copy bandwidth {copy:F1} GB/s; LLaMA-7B shapes (hidden {hidden}, MLP {ffn}), {layers} layers");
        Console.WriteLine();
        Console.WriteLine("| weights | weight bytes read / token | upload (s) | decode ms/token (median) | tokens/s | memory-bound ms/token | of the limit | launching steps / token | host enqueue ms/token (mean) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, scheme) in new[] { ("W4 g128 asym", QuantScheme.Create(4, 128, false, DType.F16)), ("W2 g64 asym", QuantScheme.Create(2, 64, false, DType.F16)) })
        {
            var store = Cpu7bDecodeBenchmark.RandomModel(config, scheme);
            var graph = LlamaGraphBuilder.Build("llama_7b_shape", config, store, "random");
            var clock = Stopwatch.StartNew();
            using var session = new GpuSession(GpuProgram.Compile(graph, store, device));
            session.Forward([1, 450, 4996, 310, 3444, 338, 263, 2107]);
            double upload = clock.Elapsed.TotalSeconds;
            long table = (long)config.VocabSize * config.HiddenSize * sizeof(float);
            var steps = new double[device.IsCuda ? 64 : 4];
            var enqueued = session.EnqueueTime;
            for (int i = 0; i < steps.Length; i++)
            {
                var step = Stopwatch.StartNew();
                session.Forward([100 + i]);
                steps[i] = step.Elapsed.TotalMilliseconds;
            }
            double enqueueMs = (session.EnqueueTime - enqueued).TotalMilliseconds / steps.Length;
            Array.Sort(steps);
            long bytes = session.WeightBytes - table;
            double ms = steps[steps.Length / 2], limit = bytes / copy / 1e6;
            Console.WriteLine($"| {label} | {bytes / 1e9:F2} GB | {upload:F1} | {ms:F2} | {1e3 / ms:F1} | {limit:F2} | {limit / ms:P0} | {session.StepsRun} | {enqueueMs:F2} |");
        }
    }
}
