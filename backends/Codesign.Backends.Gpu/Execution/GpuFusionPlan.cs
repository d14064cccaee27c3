using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Values;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// Which nodes the gpu lowering folds into a neighbour's launch, saving a launch and a round trip of the value through
/// memory:
/// <list type="bullet">
/// <item>a silu whose one consumer is a mul: the mul computes silu(gate)·up;</item>
/// <item>an rms_norm whose every consumer is a float qmatmul that <see cref="Kernels.WordCodeGemv"/> takes: in decode those
/// GEMVs apply the norm to the norm's input (the norm runs only for prefill, whose GEMM reads it);</item>
/// <item>add(qmatmul(x), r) where the product's one consumer is the add and r exists before the product: in decode the
/// word GEMV adds r and writes the sum (the add runs only for prefill);</item>
/// <item>up to three word GEMVs reading the same x with the same K and code format (q, k and v; gate and up), none with a
/// folded residual: in decode the first launches all of them and the others are skipped;</item>
/// <item>mul(silu(gate(x)), up(x)) where gate and up are such a pair of siblings, each read only there: in decode their
/// launch computes the mul's output (two rows of each per group) and writes neither product;</item>
/// <item>the ropes of q and k whose one consumer is an attention (same positions and θ): attention turns q as it reads it
/// and k as it appends it to the cache, for any number of tokens (the rope nodes never run).</item>
/// </list>
/// </summary>
internal sealed class GpuFusionPlan
{
    private GpuFusionPlan() { }

    /// <summary>silu output → silu input.</summary>
    public Dictionary<Value, Value> Silus { get; } = [];
    /// <summary>rms_norm output → the rms_norm node, for norms folded into the GEMVs reading them.</summary>
    public Dictionary<Value, Node> PrologueNorms { get; } = [];
    /// <summary>qmatmul node → the add node whose residual its GEMV adds.</summary>
    public Dictionary<Node, Node> ResidualAdds { get; } = [];

    /// <summary>The first of each group of sibling GEMVs → the group (itself first), for groups of two or three.</summary>
    public Dictionary<Node, IReadOnlyList<Node>> SiblingLaunches { get; } = [];
    /// <summary>The GEMVs a sibling before them launches in decode.</summary>
    public HashSet<Node> SiblingFollowers { get; } = [];

    /// <summary>The first GEMV of a gate/up sibling pair → the pair and the mul their gated launch computes in decode.</summary>
    public Dictionary<Node, (Node Gate, Node Up, Node Mul)> GatedLaunches { get; } = [];

    /// <summary>Attention node → the ropes of its q and k, folded into it.</summary>
    public Dictionary<Node, (Node Query, Node Key)> AttentionRopes { get; } = [];

    /// <summary>Nodes no step runs: silus (computed by their mul) and ropes (computed by their attention).</summary>
    public bool IsFoldedAway(Node node) => Silus.ContainsKey(node.Outputs[0]) || AttentionRopes.Values.Any(r => r.Query == node || r.Key == node);

    public bool IsEpilogueAdd(Node add) => add.Inputs.Any(i => i.Producer is { } p && ResidualAdds.TryGetValue(p, out var a) && a == add);

    public static GpuFusionPlan For(Graph graph)
    {
        var plan = new GpuFusionPlan();
        var consumers = new Dictionary<Value, List<Node>>();
        var order = new Dictionary<Node, int>();
        foreach (var n in graph.Nodes)
        {
            order[n] = order.Count;
            foreach (var i in n.Inputs)
                (consumers.TryGetValue(i, out var l) ? l : consumers[i] = []).Add(n);
        }
        List<Node> UsersOf(Value v) => consumers.TryGetValue(v, out var l) ? l : [];
        bool Internal(Value v) => !graph.Outputs.Contains(v);
        bool OnlyFeeds(Node producer, Node consumer) => Internal(producer.Outputs[0]) && UsersOf(producer.Outputs[0]) is [var only] && only == consumer;

        foreach (var n in graph.Nodes)
        {
            var output = n.Outputs[0];
            if (n.Op is SiluOp && Internal(output) && UsersOf(output) is [{ Op: MulOp } mul] && mul.Inputs.Count(i => i == output) == 1)
                plan.Silus[output] = n.Inputs[0];
            if (n.Op is RmsNormOp && Internal(output) && UsersOf(output) is { Count: > 0 } readers
                && readers.All(r => IsWordGemv(r) && r.Inputs[0] == output && r.Inputs.Skip(1).All(i => i != output)))
                plan.PrologueNorms[output] = n;
            if (IsWordGemv(n) && Internal(output) && UsersOf(output) is [{ Op: AddOp } add] && add.Inputs.Count == 2
                && add.Inputs.Count(i => i == output) == 1 && add.Outputs[0].Type.Equals(output.Type))
            {
                var residual = add.Inputs.Single(i => i != output);
                if (residual.Type.Equals(output.Type) && (residual.Producer is null || order[residual.Producer] < order[n]))
                    plan.ResidualAdds[n] = add;
            }
            if (n.Op is AttentionOp && n.Inputs[0].Producer is { Op: RopeOp qRope } qNode && n.Inputs[1].Producer is { Op: RopeOp kRope } kNode
                && qNode != kNode && qNode.Inputs[1] == kNode.Inputs[1] && qRope.Theta == kRope.Theta
                && OnlyFeeds(qNode, n) && OnlyFeeds(kNode, n))
                plan.AttentionRopes[n] = (qNode, kNode);
        }
        foreach (var (value, readers) in consumers)
        {
            var gemvs = readers.Distinct().Where(r => IsWordGemv(r) && r.Inputs[0] == value && !plan.ResidualAdds.ContainsKey(r));
            foreach (var family in gemvs.GroupBy(g => (g.Inputs[1].Type.DType, g.Inputs[1].Type[1].Size)))
            {
                var ordered = family.OrderBy(g => order[g]).ToList();
                for (int i = 0; i + 1 < ordered.Count; i += 3)
                {
                    var group = ordered.Skip(i).Take(3).ToList();
                    plan.SiblingLaunches[group[0]] = group;
                    foreach (var follower in group.Skip(1)) plan.SiblingFollowers.Add(follower);
                }
            }
        }
        foreach (var (leader, group) in plan.SiblingLaunches)
        {
            if (group.Count != 2) continue;
            foreach (var (gate, up) in new[] { (group[0], group[1]), (group[1], group[0]) })
                if (UsersOf(gate.Outputs[0]) is [{ Op: SiluOp } silu] && plan.Silus.ContainsKey(silu.Outputs[0])
                    && UsersOf(silu.Outputs[0]) is [var mul] && UsersOf(up.Outputs[0]) is [var upReader] && upReader == mul
                    && Internal(gate.Outputs[0]) && Internal(up.Outputs[0])
                    && gate.Inputs[1].Type[0].Size == up.Inputs[1].Type[0].Size)
                    plan.GatedLaunches[leader] = (gate, up, mul);
        }
        return plan;
    }

    /// <summary>Whether a gated launch in decode computes <paramref name="mul"/>.</summary>
    public bool IsGatedMul(Node mul) => GatedLaunches.Values.Any(g => g.Mul == mul);

    private static bool IsWordGemv(Node n) => n.Op is QMatMulOp { ActBits: 0 } && GpuNodeLowering.WordKernelTakes(n);
}
