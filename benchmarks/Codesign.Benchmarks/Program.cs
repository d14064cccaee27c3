using System.Diagnostics;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Semantics;
using Codesign.Runtime.Evaluation;
using Codesign.Runtime.Interpreter;

// Reference-interpreter throughput, each figure beside a baseline measured in the same run.
// Usage: dotnet run -c Release --project benchmarks/Codesign.Benchmarks [-- MODEL_DIR]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- accuracy [MODEL_DIR [RECIPE_DIR]]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- cpu-gemv [FORMAT_SUBSTRING]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- cpu-decode [MODEL_DIR [RECIPE_DIR]]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- cpu-artifact [MODEL_DIR [RECIPE_DIR]]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- cpu-decode-7b [LAYERS [FORMAT_SUBSTRING]]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- gpu-check [MODEL_DIR [RECIPE_DIR]]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- gpu-gemv [FORMAT_SUBSTRING] [quick]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- gpu-decode-7b [LAYERS] [quick]
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- gpu-ptx [KERNEL_SUBSTRING]   (PTX for sm_90, no GPU needed)
//        dotnet run -c Release --project benchmarks/Codesign.Benchmarks -- serve-load [MODEL_DIR [DEVICE [MAX_TOKENS [REQUESTS_PER_CLIENT]]]]
//        (quick: shapes scaled down, to check on ILGPU's CPU accelerator; scripts/publish-gpu-bench.sh builds these for a CUDA machine)
if (args.Length > 0 && args[0] == "serve-load")
{
    string repo = FindRoot();
    string[] rest = args.Skip(1).ToArray();
    Environment.Exit(ServeLoadBenchmark.Run(repo, rest.Length > 0 ? rest[0] : Path.Combine(repo, "examples", "tiny-llama-a"), rest.Length > 1 ? rest[1] : "cpu",
        rest.Length > 2 ? int.Parse(rest[2], System.Globalization.CultureInfo.InvariantCulture) : 32, rest.Length > 3 ? int.Parse(rest[3], System.Globalization.CultureInfo.InvariantCulture) : 4));
}
if (args.Length > 0 && args[0] == "gpu-check")
{
    Environment.Exit(GpuCheck.Run(args.Length > 1 ? args[1] : Path.Combine(FindRoot(), "examples", "tiny-llama-a"),
        args.Length > 2 ? args[2] : Path.Combine(FindRoot(), "examples", "recipes")));
}
if (args.Length > 0 && args[0] == "gpu-ptx")
{
    using var listing = new Codesign.Backends.Gpu.Diagnostics.PtxListing();
    foreach (var (name, method) in Codesign.Backends.Gpu.Diagnostics.PtxListing.Kernels())
        if (args.Length < 2 || name.Contains(args[1], StringComparison.OrdinalIgnoreCase))
            Console.WriteLine($"// ===== {name}\n{listing.Compile(method)}");
    return;
}
if (args.Length > 0 && args[0] == "gpu-gemv")
{
    GpuGemvBenchmark.Run(args.Skip(1).FirstOrDefault(a => a != "quick"), args.Contains("quick"));
    return;
}
if (args.Length > 0 && args[0] == "gpu-decode-7b")
{
    var numbers = args.Skip(1).Where(a => a != "quick").Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    if (args.Contains("quick")) Gpu7bDecodeBenchmark.Run(numbers.FirstOrDefault(1), 512, 1376);
    else Gpu7bDecodeBenchmark.Run(numbers.FirstOrDefault(32));
    return;
}
if (args.Length > 0 && args[0] == "fpga-block")
{
    FpgaBlockSparseEstimate.Run();
    return;
}
if (args.Length > 0 && args[0] == "fpga-7b")
{
    Fpga7bEstimate.Run();
    return;
}
if (args.Length > 0 && args[0] == "cpu-gemv")
{
    CpuGemvBenchmark.Run(args.Length > 1 ? args[1] : null);
    return;
}
if (args.Length > 0 && args[0] == "cpu-decode")
{
    CpuDecodeBenchmark.Run(args.Length > 1 ? args[1] : Path.Combine(FindRoot(), "examples", "tiny-llama-a"),
        args.Length > 2 ? args[2] : Path.Combine(FindRoot(), "examples", "recipes"));
    return;
}
if (args.Length > 0 && args[0] == "cpu-decode-7b")
{
    Cpu7bDecodeBenchmark.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 32, args.Length > 2 ? args[2] : null);
    return;
}
if (args.Length > 0 && args[0] == "cpu-artifact")
{
    CpuArtifactBenchmark.Run(args.Length > 1 ? args[1] : Path.Combine(FindRoot(), "examples", "tiny-llama-a"),
        args.Length > 2 ? args[2] : Path.Combine(FindRoot(), "examples", "recipes"));
    return;
}
if (args.Length > 0 && args[0] == "accuracy")
{
    string dir = args.Length > 1 ? args[1] : Path.Combine(FindRoot(), "examples", "tiny-llama-a");
    using var evalFile = SafetensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
    AccuracyTable.Run(dir, args.Length > 2 ? args[2] : Path.Combine(FindRoot(), "examples", "recipes"),
        evalFile.ReadInt64("eval.ids").Select(v => checked((int)v)).ToArray());
    return;
}
string model = args.Length > 0 ? args[0] : Path.Combine(FindRoot(), "examples", "tiny-llama-a");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, Vector<float>.Count = {System.Numerics.Vector<float>.Count}");
Console.WriteLine();
Console.WriteLine("| kernel | shape (M x N x K) | ours (ms, median) | plain loop (ms) | speed-up | GFLOP/s |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");
foreach (var (m, n, k) in new[] { (1, 4096, 4096), (1, 11008, 4096), (16, 2048, 256), (256, 704, 256) })
{
    var rnd = new Random(1);
    var x = Enumerable.Range(0, m * k).Select(_ => (float)rnd.NextDouble()).ToArray();
    var w = Enumerable.Range(0, n * k).Select(_ => (float)rnd.NextDouble()).ToArray();
    double ours = Timing.MedianMs(7, () => MatMulKernel.Linear(x, w, m, n, k));
    double plain = Timing.MedianMs(3, () => PlainLinear(x, w, m, n, k));
    double gflops = 2.0 * m * n * k / (ours / 1e3) / 1e9;
    Console.WriteLine($"| matmul | {m} x {n} x {k} | {ours:F3} | {plain:F3} | {plain / ours:F1}x | {gflops:F1} |");
}

using var imported = ModelLoader.Load(model);
var interpreter = new ReferenceInterpreter(imported.Graph, imported.Weights);
var session = new InterpreterSession(interpreter);
var prompt = Enumerable.Range(0, 128).Select(i => 3 + i % 1000).ToArray();
double prefill = Timing.MedianMs(5, () => { session.Reset(); session.Forward(prompt); });
double decode = Timing.MedianMs(5, () =>
{
    session.Reset();
    session.Forward(prompt[..1]);
    for (int i = 1; i < 65; i++) session.Forward([prompt[i]]);
}) / 64;
Console.WriteLine();
Console.WriteLine($"| model | prefill 128 tokens (ms) | prefill tokens/s | decode (ms/token) | decode tokens/s |");
Console.WriteLine("|---|---:|---:|---:|---:|");
Console.WriteLine($"| {imported.Graph.Name} | {prefill:F1} | {128 / (prefill / 1e3):F0} | {decode:F2} | {1e3 / decode:F0} |");

string reference = Path.Combine(model, "reference.safetensors");
if (File.Exists(reference))
{
    using var f = SafetensorsFile.Open(reference);
    var ids = f.ReadInt64("eval.ids").Select(v => (int)v).ToArray();
    var clock = Stopwatch.StartNew();
    var result = PerplexityEvaluator.Evaluate(session, ids, 256);
    Console.WriteLine();
    Console.WriteLine($"eval: {ids.Length} tokens, window 256, perplexity {result.Perplexity:F4}, {clock.Elapsed.TotalSeconds:F2} s ({ids.Length / clock.Elapsed.TotalSeconds:F0} tokens/s)");
}

static float[] PlainLinear(float[] x, float[] w, int m, int n, int k)
{
    var y = new float[m * n];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
            y[i * n + j] = s;
        }
    return y;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Codesign.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
