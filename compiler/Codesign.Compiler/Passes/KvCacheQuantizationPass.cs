using Codesign.IR.Ops;

namespace Codesign.Compiler.Passes;

/// <summary>Sets <c>kv_bits</c> (and <c>act_bits</c>: integer attention) on every attention op when the recipe asks for a quantized KV cache.</summary>
public sealed class KvCacheQuantizationPass : IPass
{
    public string Name => "kv-cache-quantization";

    public bool Run(CompressionContext context)
    {
        if (context.Recipe.KvCache is not { } kv) return false;
        bool changed = false;
        foreach (var node in context.Graph.Nodes.Where(n => n.Op is AttentionOp a && (a.KvBits != kv.Bits || a.ActBits != kv.ActBits)).ToList())
        {
            context.Graph.ReplaceNode(node, ((AttentionOp)node.Op).WithKvBits(kv.Bits, kv.ActBits), node.Inputs);
            changed = true;
        }
        return changed;
    }
}
