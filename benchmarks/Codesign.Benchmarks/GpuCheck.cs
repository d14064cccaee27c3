using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Weights;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;

/// <summary>
/// The gpu backend's differential checks for a machine with CUDA and no .NET test runner (the NUnit suites run the same
/// comparisons on ILGPU's CPU accelerator in CI): linear kernels of every weight family at odd sizes, GEMV and GEMM,
/// against the interpreter (integer paths bit for bit), then tiny-llama-a's greedy tokens against transformers (f32)
/// and against the interpreter (W4). Exits non-zero when a check fails.
/// </summary>
internal static class GpuCheck
{
    public static int Run(string modelDir, string recipeDir)
    {
        using var device = GpuBenchDevice.Open();
        Console.WriteLine($"device: {device.Description}");
        Console.WriteLine();
        Console.WriteLine("| check | tokens | result | max error / max |");
        Console.WriteLine("|---|---:|---|---:|");
        int failures = 0;
        var r = new Random(11);
        var cases = new (string Label, Op Op, QuantScheme Scheme, bool Exact)[]
        {
            ("qmatmul W4 g128 asym", new QMatMulOp(), QuantScheme.Create(4, 128, false, DType.F16), false),
            ("qmatmul W3 g64 sym", new QMatMulOp(), QuantScheme.Create(3, 64, true, DType.F16), false),
            ("qmatmul W2 g32 asym MixPE", new QMatMulOp(QMatMulOp.GroupAccumulate), QuantScheme.Create(2, 32, false, DType.F16), false),
            ("qmatmul W8 channel", new QMatMulOp(), QuantScheme.Create(8, 0, true, DType.F16), false),
            ("qmatmul W4A8 (integer)", new QMatMulOp(actBits: 8), QuantScheme.Create(4, 32, false, DType.F16), true),
            ("lut.mpgemm W2 g32", new LutMatMulOp(), QuantScheme.Create(2, 32, true, DType.F16), true),
        };
        foreach (var (label, op, scheme, exact) in cases)
            foreach (int tokens in new[] { 1, 3, 37 })
            {
                int n = 1001, k = 2000;
                var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(r.NextDouble() - 0.5) * 2).ToArray();
                var b = new GraphBuilder("check");
                var xv = b.Input("x", TensorType.Of(DType.F32, "seq", k));
                var g = b.Return(b.Apply(op, "y", xv, b.Weight("w", TensorType.Of(DType.Quantized(scheme), n, k))));
                var store = new LayeredWeightStore();
                store.Set(RandomPacked.Quantized(r, "w", scheme, n, k));
                var inputs = new Dictionary<string, HostTensor> { ["x"] = HostTensor.F32([tokens, k], x) };
                using var program = GpuProgram.Compile(g, store, device);
                using var cache = program.NewCache();
                var gpu = program.Run(inputs, cache)["y"].Floats.ToArray();
                var reference = new ReferenceInterpreter(g, store).Run(inputs, new KvCache())["y"].Floats.ToArray();
                double scale = reference.Max(v => Math.Abs(v)), error = gpu.Zip(reference, (a, c) => Math.Abs(a - c)).Max() / scale;
                bool ok = exact ? gpu.SequenceEqual(reference) : error < 1e-5;
                failures += ok ? 0 : 1;
                Console.WriteLine($"| {label} | {tokens} | {(ok ? "pass" : "FAIL")}{(exact ? " (bit-exact required)" : "")} | {error:E1} |");
            }

        using var m = ModelLoader.Load(modelDir);
        using var reference2 = SafetensorsFile.Open(Path.Combine(modelDir, "reference.safetensors"));
        var ids = reference2.ReadInt64("prompt0.ids").Select(v => (int)v).ToArray();
        var expected = reference2.ReadInt64("prompt0.greedy").Select(v => (int)v).ToList();
        using (var session = new GpuSession(GpuProgram.Compile(m.Graph, m.Weights, device)))
        {
            var tokens = TextGenerator.Generate(session, ids, expected.Count, SamplingOptions.GreedyDecoding);
            bool ok = tokens.SequenceEqual(expected);
            failures += ok ? 0 : 1;
            Console.WriteLine($"| tiny-llama-a f32 greedy = transformers | {expected.Count} | {(ok ? "pass" : "FAIL")} | |");
        }
        var w4 = RecipeRunner.Apply(m, Path.Combine(recipeDir, "w4g128-gptq.json"));
        using (var session = new GpuSession(GpuProgram.Compile(m.Graph, w4, device)))
        {
            var tokens = TextGenerator.Generate(session, ids, 32, SamplingOptions.GreedyDecoding);
            var interpreted = TextGenerator.Generate(new InterpreterSession(new ReferenceInterpreter(m.Graph, w4)), ids, 32, SamplingOptions.GreedyDecoding);
            bool ok = tokens.SequenceEqual(interpreted);
            failures += ok ? 0 : 1;
            Console.WriteLine($"| tiny-llama-a W4 g128 greedy = interpreter | 32 | {(ok ? "pass" : "FAIL")} | |");
        }
        Console.WriteLine();
        Console.WriteLine(failures == 0 ? "all gpu checks passed" : $"{failures} gpu check(s) FAILED");
        return failures == 0 ? 0 : 1;
    }
}
