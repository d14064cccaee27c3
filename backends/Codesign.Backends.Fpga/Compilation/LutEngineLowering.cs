using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Text;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// Puts quantized linear layers on the accelerator's LUT-mpGEMM engine: quant.qmatmul with f32 activations and
/// weight accumulation over 2- to 4-bit codes becomes lut.mpgemm (whose semantics, LutMpGemmKernel, the engine
/// executes bit for bit). Layers that fix their arithmetic otherwise (act_bits, group accumulation) stay on the DSP
/// chain. The lowered graph is a copy; it is the graph the artifact runs and the interpreter checks.
/// </summary>
public static class LutEngineLowering
{
    public static bool Takes(Node node) =>
        node.Op is QMatMulOp { ActBits: 0, Accumulate: QMatMulOp.WeightAccumulate } && MatrixFormat.LutReads(node.Inputs[1].Type.DType.Scheme!.Bits);

    public static Graph Apply(Graph graph)
    {
        if (!graph.Nodes.Any(Takes)) return graph;
        var copy = GraphParser.Parse(GraphPrinter.Print(graph));
        foreach (var node in copy.Nodes.Where(Takes).ToList())
            copy.ReplaceNode(node, new LutMatMulOp(), node.Inputs);
        return copy;
    }
}
