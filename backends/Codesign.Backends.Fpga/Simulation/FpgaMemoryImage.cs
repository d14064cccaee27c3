using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>A piece of the initial memory: in system memory (<see cref="Core"/> −1) or in a matrix core's channel.</summary>
public readonly record struct FpgaImageSegment(int Core, long Address, ReadOnlyMemory<byte> Data);

/// <summary>
/// The initial contents of external memory for a plan: each system-resident weight's packed bytes at its address, the
/// constants, and in every core's channel its slice of each core-resident weight.
/// </summary>
public static class FpgaMemoryImage
{
    /// <summary>The image's pieces, by byte address; the rest of memory (KV regions, I/O) starts as zeros.</summary>
    public static IEnumerable<FpgaImageSegment> Segments(Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var w in graph.Weights.Where(plan.External.ContainsKey))
            yield return new(-1, plan.External[w] * FpgaMemoryPlan.Unit, GraphBinding.Weight(w, weights).Data);
        yield return new(-1, plan.Constants.Base * FpgaMemoryPlan.Unit, plan.Constants.Bytes());
        int cores = plan.Cores.Design.Cores;
        foreach (var w in graph.Weights.Where(plan.CoreOffsets.ContainsKey))
        {
            var packed = GraphBinding.Weight(w, weights).Data;
            int n = (int)w.Type[0].Size, k = (int)w.Type[1].Size;
            for (int c = 0; c < cores; c++)
            {
                var (first, count) = MatrixCoreRules.Rows(n, cores, c);
                if (count > 0) yield return new(c, plan.CoreOffsets[w] * FpgaMemoryPlan.Unit, CoreSlices.Slice(w.Type.DType, n, k, packed.Span, first, count));
            }
        }
    }

    public static void Load(IAcceleratorDevice device, Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var s in Segments(graph, weights, plan))
            if (s.Core < 0) device.Write(s.Address, s.Data.Span);
            else device.WriteCore(s.Core, s.Address, s.Data.Span);
    }
}
