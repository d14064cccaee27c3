using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// Which of a graph's matrices run on the matrix cores (group-wise weights with int8 activations whose format and shape
/// <see cref="MatrixCoreRules"/> accepts), and the cores' design sized for them: the window's rotation divides their
/// groups, the code banks hold their longest row, the rings two blocks of their rows. Every other matrix goes to the
/// single-port engine (<see cref="LegacyMatrix"/>) or the binary32 engine.
/// </summary>
public sealed class CoreAssignment
{
    private readonly HashSet<Node> _nodes;

    private CoreAssignment(MatrixCoreDesign design, HashSet<Node> nodes, bool legacyMatrix)
    {
        Design = design;
        _nodes = nodes;
        LegacyMatrix = legacyMatrix;
    }

    public MatrixCoreDesign Design { get; }

    /// <summary>Whether some group-wise matrix (block-sparse, LUT-mpGEMM, a shape the cores refuse) needs the single-port matrix engine.</summary>
    public bool LegacyMatrix { get; }

    public bool Takes(Node node) => _nodes.Contains(node);

    public IEnumerable<Node> Nodes => _nodes;

    /// <summary>The largest slice of <paramref name="weight"/> a core holds: ⌈N / C⌉ rows.</summary>
    public long SliceBytes(Value weight)
    {
        int n = (int)weight.Type[0].Size, k = (int)weight.Type[1].Size;
        return CoreSlices.Bytes(weight.Type.DType, (n + Design.Cores - 1) / Design.Cores, k);
    }

    public static CoreAssignment For(Graph graph, AcceleratorShape shape)
    {
        shape.Checked();
        var candidates = new List<(Node Node, QuantScheme Scheme, int K, int M)>();
        bool legacy = false;
        foreach (var node in graph.Nodes)
        {
            if (node.Op is LutMatMulOp) { legacy = true; continue; }
            long actBits = node.Op switch { QMatMulOp q => q.ActBits, SpMatMulOp sp => sp.ActBits, _ => -1 };
            if (actBits < 0) continue;
            var type = node.Inputs[1].Type;
            if (type.DType.CodeScheme is not { } scheme || actBits != 8) continue;
            int k = (int)type[1].Size;
            // the rotation is settled below; 16 columns is the finest, so a matrix refused at 16 is refused at any
            if (MatrixCoreRules.Problem(scheme, type.DType.Sparsity, k, 16) is null) candidates.Add((node, scheme, k, type.DType.Sparsity?.M ?? 1));
            else legacy = true;
        }
        var groups = candidates.Select(c => c.Scheme.GroupLength(c.K)).Zip(candidates, (g, c) => (g, c.K)).Where(p => p.g < p.K).Select(p => p.g).ToList();
        var design = MatrixCoreDesign.For(shape,
            candidates.Select(c => c.K).DefaultIfEmpty(16).Max(),
            candidates.Select(c => c.Scheme.GroupCount(c.K) * c.Scheme.ScaleType.ByteSize).DefaultIfEmpty(4).Max(),
            candidates.Select(c => c.Scheme.GroupCount(c.K)).DefaultIfEmpty(1).Max(),
            candidates.Where(c => c.M > 1).Select(c => MatrixCoreDesign.OffsetRowBytes(c.K, c.M)).DefaultIfEmpty(1).Max(),
            groups, sparse: candidates.Any(c => c.M > 1));
        var nodes = new HashSet<Node>();
        foreach (var (node, scheme, k, _) in candidates)
        {
            var w = node.Inputs[1];
            var sparsity = w.Type.DType.Sparsity;
            var operands = new CoreMatrixOperands((byte)(scheme.Bits | (sparsity is null ? 0 : MatrixFormat.Sparse)),
                (byte)(MatrixLayout.Of(scheme) | (sparsity is null ? 0 : MatrixLayout.Pattern(sparsity.N, sparsity.M)!.Value)), 0,
                (int)w.Type[0].Size, k, 1, scheme.GroupLength(k), 0, 0);
            if (design.Refusal(operands) is null) nodes.Add(node);
            else legacy = true;
        }
        return new CoreAssignment(design, nodes, legacy);
    }
}
