using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;
using Codesign.IR.Weights;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>A piece of the initial memory: in system memory (<see cref="Core"/> −1) or in a matrix core's channel.</summary>
public readonly record struct FpgaImageSegment(int Core, long Address, ReadOnlyMemory<byte> Data);

/// <summary>
/// The initial contents of external memory for a plan: each system-resident weight's packed bytes at its address, the
/// constants, and in every core's channel its slice of each core-resident weight and its value caches' row scales.
/// </summary>
public static class FpgaMemoryImage
{
    /// <summary>
    /// Whether the system engines read <paramref name="w"/> widened to f32: float weights stored as f16 or bf16 (an
    /// embedding table the load unit gathers, a float matrix the binary32 engine streams), which the image widens
    /// exactly, so those engines read only f32.
    /// </summary>
    public static bool WidenedToF32(Value w) => w.Type.DType == DType.F16 || w.Type.DType == DType.BF16;

    /// <summary>Bytes of <paramref name="w"/> in system memory, given its packed bytes.</summary>
    public static long SystemBytes(Value w, long packedBytes) => WidenedToF32(w) ? w.Type.Shape.Aggregate(1L, (a, d) => a * d.Size) * 4 : packedBytes;

    /// <summary>The image's pieces, by byte address; the rest of memory (KV regions, I/O) starts as zeros.</summary>
    public static IEnumerable<FpgaImageSegment> Segments(Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var w in graph.Weights.Where(plan.External.ContainsKey))
        {
            var tensor = GraphBinding.Weight(w, weights);
            yield return new(-1, plan.External[w] * FpgaMemoryPlan.Unit,
                WidenedToF32(w) ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(FloatConversion.ToFloat32(tensor).Span).ToArray() : tensor.Data);
        }
        yield return new(-1, plan.Constants.Base * FpgaMemoryPlan.Unit, plan.Constants.Bytes());
        int cores = plan.Cores.Design.Cores;
        foreach (var w in graph.Weights.Where(plan.CoreOffsets.ContainsKey))
            foreach (var (core, slice) in CoreSlices.Striped(w.Type.DType, (int)w.Type[0].Size, (int)w.Type[1].Size, GraphBinding.Weight(w, weights).Data, cores))
                yield return new(core, plan.CoreOffsets[w] * FpgaMemoryPlan.Unit, slice);
        // the cores' value caches are matrices whose rows have a scale of 1 (the values' own scales go to the softmax)
        foreach (var regions in plan.CoreKv.Values)
            for (int r = 0; r < regions.Values.Length; r++)
                for (int g = 0; g < regions.KvHeadsIn(r, cores); g++)
                    yield return new(g, regions.Values[r] * FpgaMemoryPlan.Unit + regions.Layout.ValueScalesAt, regions.Layout.ValueRowScales());
    }

    public static void Load(IAcceleratorDevice device, Graph graph, IWeightStore weights, FpgaMemoryPlan plan)
    {
        foreach (var s in Segments(graph, weights, plan))
            if (s.Core < 0) device.Write(s.Address, s.Data.Span);
            else device.WriteCore(s.Core, s.Address, s.Data.Span);
    }
}
