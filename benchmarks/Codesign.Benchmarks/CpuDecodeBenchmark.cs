using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;

/// <summary>
/// End-to-end decode on the fixture: tokens/s of the cpu device at f32, W8, W4 and W2 (1 and 2 threads),
/// beside the reference interpreter on the same compressed graph, measured in the same run.
/// </summary>
internal static class CpuDecodeBenchmark
{
    public static void Run(string modelDir, string recipeDir)
    {
        Console.WriteLine("| weights | recipe | device | threads | prefill 64 tokens (ms) | decode (ms/token) | decode tokens/s | vs interpreter |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var (label, recipe) in new (string, string?)[] { ("f32", null), ("W8", "w8-rtn"), ("W4 g128", "w4g128-rtn"), ("W4 g32 (Q4_0)", "gguf-q4_0"), ("W2 g32", "w2g32-rtn"), ("f32 2:4", "sparse24-magnitude") })
        {
            using var m = ModelLoader.Load(modelDir);
            IWeightStore store = recipe is null ? m.Weights : RecipeRunner.Apply(m, Path.Combine(recipeDir, recipe + ".json"));
            var prompt = Enumerable.Range(0, 64).Select(i => 3 + i * 7 % 1000).ToArray();
            // The first measurement of a session includes .NET's tiered JIT warming up; measure twice, keep the second.
            var interpreter = new InterpreterSession(new ReferenceInterpreter(m.Graph, store));
            Measure(interpreter, prompt);
            var (interpreterPrefill, interpreterDecode) = Measure(interpreter, prompt);
            Console.WriteLine($"| {label} | {recipe ?? "-"} | interpreter | {Environment.ProcessorCount} | {interpreterPrefill:F2} | {interpreterDecode:F3} | {1e3 / interpreterDecode:F0} | 1.0x |");
            // Dequantizing kernels, then (where lut-lower takes layers) the LUT kernels.
            foreach (var lut in new[] { LutChoice.Never, LutChoice.Auto })
            foreach (int threads in Enumerable.Range(1, Math.Min(2, Environment.ProcessorCount)))
            {
                using var program = CpuProgram.Compile(m.Graph, store, threads, lut: lut);
                if (lut == LutChoice.Auto && !program.LutDecisions.Any(d => d.Lut)) break;
                string device = lut == LutChoice.Auto ? "cpu, LUT" : "cpu";
                var cpu = new CpuSession(program);
                Measure(cpu, prompt);
                var (prefill, decode) = Measure(cpu, prompt);
                Console.WriteLine($"| {label} | {recipe ?? "-"} | {device} | {threads} | {prefill:F2} | {decode:F3} | {1e3 / decode:F0} | {interpreterDecode / decode:F1}x |");
            }
        }
    }

    /// <summary>Median prefill time of the prompt, and the median time of one decode step over 48 tokens after it.</summary>
    private static (double PrefillMs, double DecodeMs) Measure(ICausalLmSession session, int[] prompt)
    {
        double prefill = Timing.MedianMs(5, () => { session.Reset(); session.Forward(prompt); });
        session.Reset();
        session.Forward(prompt);
        var steps = new double[48];
        for (int i = 0; i < steps.Length; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            session.Forward([5 + i]);
            steps[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(steps);
        return (prefill, steps[steps.Length / 2]);
    }
}
