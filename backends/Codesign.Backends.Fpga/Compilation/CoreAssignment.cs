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
/// single-port engine (<see cref="LegacyMatrix"/>) or the binary32 engine. Integer attention over an 8-bit cache
/// (<c>nn.attention {kv_bits = 8, act_bits = 8}</c>) runs on the cores too, a kv head a core
/// (<see cref="TakesAttention"/>), its cache in their channels for up to <see cref="AttentionCapacity"/> positions.
/// </summary>
public sealed class CoreAssignment
{
    private readonly HashSet<Node> _nodes;
    private readonly HashSet<Node> _attention;

    private CoreAssignment(MatrixCoreDesign design, HashSet<Node> nodes, HashSet<Node> attention, int attentionCapacity, bool legacyMatrix, bool binary32Engine)
    {
        Binary32Engine = binary32Engine;
        Design = design;
        _nodes = nodes;
        _attention = attention;
        AttentionCapacity = attentionCapacity;
        LegacyMatrix = legacyMatrix;
    }

    /// <summary>Whether integer attention <paramref name="node"/> runs on the cores.</summary>
    public bool TakesAttention(Node node) => _attention.Contains(node);

    public IEnumerable<Node> AttentionNodes => _attention;

    /// <summary>The positions each core's cache of a kv head holds: the maximum context rounded up to the widest beat.</summary>
    public int AttentionCapacity { get; }

    /// <summary>
    /// Why integer attention of <paramref name="headDim"/>-wide heads cannot run on the cores, or null: an 8-bit cache with
    /// int8 activations, heads a multiple of 16 wide, up to 255 query heads.
    /// </summary>
    public static string? AttentionProblem(AttentionOp op, int heads, int headDim) =>
        op.KvBits != 8 || op.ActBits != 8 ? $"{(op.KvBits == 0 ? "an f32" : $"a {op.KvBits}-bit")} cache with {(op.ActBits == 0 ? "f32" : $"int{op.ActBits}")} attention (the cores run kv_bits = 8, act_bits = 8)"
        : headDim % 16 != 0 ? $"heads of {headDim} (the cores take multiples of 16)"
        : heads > byte.MaxValue ? $"{heads} heads (the cores take up to 255)"
        : null;

    public MatrixCoreDesign Design { get; }

    /// <summary>Whether some group-wise matrix (block-sparse, LUT-mpGEMM, a shape the cores refuse) needs the single-port matrix engine.</summary>
    public bool LegacyMatrix { get; }

    /// <summary>Whether some matrix with f32 weights or some attention the cores do not take needs the binary32 engine.</summary>
    public bool Binary32Engine { get; }

    public bool Takes(Node node) => _nodes.Contains(node);

    public IEnumerable<Node> Nodes => _nodes;

    /// <summary>The largest slice of <paramref name="weight"/> a core holds: ⌈N / C⌉ rows.</summary>
    public long SliceBytes(Value weight)
    {
        int n = (int)weight.Type[0].Size, k = (int)weight.Type[1].Size;
        return CoreSlices.Bytes(weight.Type.DType, (n + Design.Cores - 1) / Design.Cores, k);
    }

    /// <param name="maxContext">The longest context: the capacity of the cores' caches when attention runs on them.</param>
    public static CoreAssignment For(Graph graph, AcceleratorShape shape, int maxContext)
    {
        shape.Checked();
        var attention = graph.Nodes.Where(n => n.Op is AttentionOp a
            && AttentionProblem(a, (int)n.Inputs[0].Type.Shape[^2].Size, (int)n.Inputs[0].Type.Shape[^1].Size) is null).ToHashSet();
        int capacity = attention.Count == 0 ? 0 : CoreAttentionShape.Positions(maxContext);
        int headDim = attention.Select(n => (int)n.Inputs[0].Type.Shape[^1].Size).DefaultIfEmpty(0).Max();
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
            // attention's rows: head-dim keys, and probability rows up to the capacity
            candidates.Select(c => c.K).Append(headDim).Append(capacity).Append(16).Max(),
            candidates.Select(c => c.Scheme.GroupCount(c.K) * c.Scheme.ScaleType.ByteSize).DefaultIfEmpty(4).Max(),
            candidates.Select(c => c.Scheme.GroupCount(c.K)).DefaultIfEmpty(1).Max(),
            candidates.Where(c => c.M > 1).Select(c => MatrixCoreDesign.OffsetRowBytes(c.K, c.M)).DefaultIfEmpty(1).Max(),
            groups, sparse: candidates.Any(c => c.M > 1), fourOfEight: candidates.Any(c => c.M == 8));
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
        // the instruction compiler's rule (EmitMatrix, EmitAttention): uncoded dense weights and attention off the cores
        bool binary32 = graph.Nodes.Any(n => (n.Op is AttentionOp && !attention.Contains(n))
            || (n.Op is MatMulOp or QMatMulOp or SpMatMulOp && n.Inputs[1].Type.DType is { CodeScheme: null, Sparsity: null }));
        return new CoreAssignment(design, nodes, attention, capacity, legacy, binary32);
    }
}
