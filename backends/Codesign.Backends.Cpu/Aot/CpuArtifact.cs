using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;

namespace Codesign.Backends.Cpu.Aot;

/// <summary>The cpu's part of an artifact manifest: what the kernels were built for, and where the weights lie.</summary>
public sealed record CpuArtifactSection(
    KernelLibraryTarget Target,
    string KernelsFile,
    string WeightsFile,
    IReadOnlyList<StoredWeight> Weights,
    IReadOnlyList<LutDecision> LutDecisions);

/// <summary>
/// The cpu's files in an artifact directory: kernels compiled ahead of time for this CPU into a shared object, and
/// the weights in the forms those kernels read, in one file that is memory-mapped at load. Loading needs neither
/// LLVM nor the original model: the graph (already lowered for the cpu) comes with the artifact.
/// </summary>
public static class CpuArtifact
{
    public const string Folder = "cpu";

    /// <summary>
    /// Writes the plan's kernels and weights under <paramref name="directory"/>, in <paramref name="folder"/> (each
    /// cpu segment of a placed artifact has its own); the plan's graph is the one to store beside them.
    /// </summary>
    public static CpuArtifactSection Write(CpuPlan plan, string directory, string folder = Folder)
    {
        Directory.CreateDirectory(Path.Combine(directory, folder));
        string kernelsFile = $"{folder}/kernels.so", weightsFile = $"{folder}/weights.bin";
        var target = AheadOfTimeKernels.Compile(plan.Kernels, Path.Combine(directory, kernelsFile));
        var weights = WeightFile.Write(plan.Weights.All, Path.Combine(directory, weightsFile));
        return new CpuArtifactSection(target, kernelsFile, weightsFile, weights, plan.LutDecisions);
    }

    /// <summary>
    /// Loads the program for <paramref name="graph"/> from <paramref name="directory"/>, after checking that this CPU has
    /// every instruction-set extension the kernels were compiled to use.
    /// </summary>
    /// <param name="launcher">Cores shared with the other cpu segments of a placed artifact; null: a launcher of its own.</param>
    public static CpuProgram Load(string directory, CpuArtifactSection section, Graph graph, int threads = 0, KernelLauncher? launcher = null)
    {
        if (!section.Target.Triple.StartsWith("x86_64", StringComparison.Ordinal) || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            throw new CodesignException($"{directory}: the cpu kernels were compiled for {section.Target.Triple}; this machine is {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
        var missing = CpuFeatures.Missing(section.Target.Features);
        if (missing.Count > 0)
            throw new CodesignException($"{directory}: the cpu kernels were compiled for {section.Target.Cpu} and use {string.Join(", ", missing)}, which this CPU lacks; compile the artifact on (or for) this machine");
        var weights = WeightFile.Map(ArtifactPaths.Inside(directory, section.WeightsFile), section.Weights, graph);
        var plan = CpuPlan.Lowered(graph, weights);
        string library = ArtifactPaths.Inside(directory, section.KernelsFile);
        return CpuProgram.Load(plan, _ => new SharedObjectKernelLibrary(library), threads, launcher);
    }
}
