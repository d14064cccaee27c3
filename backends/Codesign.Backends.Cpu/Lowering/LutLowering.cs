using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Execution;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Text;

namespace Codesign.Backends.Cpu.Lowering;

/// <summary>Whether the cpu backend rewrites quantized linear layers into LUT-mpGEMM.</summary>
public enum LutChoice
{
    /// <summary>Per layer, where the lookup kernel reads at most twice the packed codes (see <see cref="LutLowering.Decide"/>).</summary>
    Auto,
    /// <summary>Every layer the LUT kernel can take.</summary>
    Always,
    /// <summary>Keep quant.qmatmul and the dequantizing kernel (exact weight semantics).</summary>
    Never,
}

/// <summary>What the lowering chose for one quantized layer, and why.</summary>
public sealed record LutDecision(string Node, bool Lut, string Reason);

/// <summary>
/// The cpu backend's lut-lower: rewrites quant.qmatmul into lut.mpgemm layer by layer. The dequantizing kernel is
/// compute-bound at 2–4 bits while the lookup kernel runs at the memory bandwidth (benchmarks/RESULTS.md), so the
/// lookup wins unless padding its bit planes and groups to whole 256-bit units more than doubles the bytes it reads
/// (1-bit codes in 2 planes, tiny groups), or the layer's semantics are not the LUT's to change (W4A8, group
/// accumulation), or the CPU has no AVX2.
/// </summary>
public static class LutLowering
{
    public const double MaxReadInflation = 2.0;

    /// <summary>The graph the cpu runs: <paramref name="graph"/> itself when nothing changes, else a rewritten copy.</summary>
    public static (Graph Graph, IReadOnlyList<LutDecision> Decisions) Apply(Graph graph, LutChoice choice)
    {
        bool avx2 = CpuFeatures.Has(LutLinearSpec.RequiredFeature);
        var decisions = graph.Nodes.Where(n => n.Op is QMatMulOp).Select(n => Decide(n, choice, avx2)).ToList();
        if (!decisions.Any(d => d.Lut)) return (graph, decisions);
        var copy = GraphParser.Parse(GraphPrinter.Print(graph));
        var chosen = decisions.Where(d => d.Lut).Select(d => d.Node).ToHashSet(StringComparer.Ordinal);
        foreach (var node in copy.Nodes.Where(n => n.Op is QMatMulOp && chosen.Contains(n.Outputs[0].Name)).ToList())
            copy.ReplaceNode(node, new LutMatMulOp(), node.Inputs);
        return (copy, decisions);
    }

    public static LutDecision Decide(Node node, LutChoice choice, bool hostHasAvx2)
    {
        var op = (QMatMulOp)node.Op;
        string name = node.Outputs[0].Name;
        var scheme = node.Inputs[1].Type.DType.Scheme!;
        int k = checked((int)node.Inputs[1].Type[1].Size);
        if (choice == LutChoice.Never) return new(name, false, "LUT lowering is off");
        if (op.ActBits != 0 || op.Accumulate != QMatMulOp.WeightAccumulate)
            return new(name, false, $"accumulate = \"{op.Accumulate}\", act_bits = {op.ActBits} fix the arithmetic");
        if (!LutMpGemmKernel.Supports(scheme)) return new(name, false, $"{scheme.Bits}-bit codes: the lookup takes 1–4 bits");
        if (!hostHasAvx2) return new(name, false, "this CPU has no AVX2 byte shuffles");
        var geo = LutGeometry.For(scheme, k);
        double inflation = (double)geo.TotalUnits * LutGeometry.UnitBytes * 8 / LutGeometry.RowsPerBlock / ((double)k * scheme.Bits);
        if (choice == LutChoice.Auto && inflation > MaxReadInflation)
            return new(name, false, $"the lookup would read {inflation:F2}x the packed codes");
        return new(name, true, $"{geo.Planes} bit planes, {inflation:F2}x the packed codes read");
    }
}
