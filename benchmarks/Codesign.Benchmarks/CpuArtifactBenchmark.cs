using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends;
using Codesign.IR.Weights;
using Codesign.Runtime.Artifacts;
using Codesign.Runtime.Compression;
using Codesign.Runtime.Devices;
using Codesign.Runtime.Generation;

/// <summary>
/// Start-up of the cpu device on the fixture: compiling in-process (lowering, weight preparation and the LLVM JIT)
/// against opening an artifact (hash checks, mapping the weights, loading the shared object), and the first
/// decode step from each, in the same run. The artifact's kernels are the JIT's, so decode itself is the same.
/// </summary>
internal static class CpuArtifactBenchmark
{
    public static void Run(string modelDir, string recipeDir)
    {
        Console.WriteLine("| weights | recipe | in-process compile (ms) | artifact write (ms, once) | artifact open + load (ms) | load speed-up | decode ms/token (JIT) | decode ms/token (artifact) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        string root = Path.Combine(Path.GetTempPath(), $"codesign-artifact-bench-{Guid.NewGuid():N}");
        try
        {
            foreach (var (label, recipe, lut) in new (string, string?, LutChoice)[] { ("f32", null, LutChoice.Never), ("W4 g128", "w4g128-rtn", LutChoice.Never), ("W2 g32 LUT", "w2g32-rtn", LutChoice.Always) })
            {
                using var m = ModelLoader.Load(modelDir);
                IWeightStore store = recipe is null ? m.Weights : RecipeRunner.Apply(m, Path.Combine(recipeDir, recipe + ".json"));
                double compile = Timing.MedianMs(3, () => CpuProgram.Compile(m.Graph, store, 2, lut: lut).Dispose());
                string dir = Path.Combine(root, label.Replace(' ', '-'));
                double write = Timing.MedianMs(1, () => ArtifactWriter.WriteCpu(m, store, dir, lut));
                double load = Timing.MedianMs(5, () => ((IDisposable)CompiledArtifact.Open(dir).OpenSession(threads: 2)).Dispose());
                using var jit = CpuProgram.Compile(m.Graph, store, 2, lut: lut);
                var aot = CompiledArtifact.Open(dir).OpenSession(threads: 2);
                using var owner = (IDisposable)aot;
                double jitDecode = DecodeMs(new CpuSession(jit)), aotDecode = DecodeMs(aot);
                Console.WriteLine($"| {label} | {recipe ?? "-"} | {compile:F0} | {write:F0} | {load:F1} | {compile / load:F1}x | {jitDecode:F3} | {aotDecode:F3} |");
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static double DecodeMs(ICausalLmSession session)
    {
        var steps = new double[64];
        for (int round = 0; round < 2; round++)
        {
            session.Reset();
            session.Forward([1, 450, 1996]);
            for (int i = 0; i < steps.Length; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                session.Forward([7 + i]);
                steps[i] = clock.Elapsed.TotalMilliseconds;
            }
        }
        Array.Sort(steps);
        return steps[steps.Length / 2];
    }
}
