using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Ops;

/// <summary>
/// <c>nn.attention(q: [S, H, D], k: [S, KV, D], v: [S, KV, D]) {layer, scale}</c>: causal attention with
/// KV-cache semantics. The step's k and v are appended to the cache slot <c>layer</c>; query s sits at
/// absolute position (cached tokens before this step) + s and attends to every position up to its own.
/// The same op serves prefill (S tokens) and decode (S = 1). H must be a multiple of KV (GQA/MQA/MHA).
/// <c>kv_bits = 8 | 4</c> stores the cache quantized: each token's key (and value) row of each kv head is
/// quantized by <see cref="ActivationQuantizer"/> on append (<see cref="KvLayerCache.Append"/>), so attention reads code · scale.
/// <c>act_bits = 8</c> (with a quantized cache) makes attention integer, as integer hardware runs it: each query row is
/// quantized to int8, a score is (scale_k · scale_q) · Σ q·k over the codes, the softmax's probabilities times each value
/// row's scale are quantized to int8 per row, and an output is that row's scale · Σ p·v over the codes
/// (<see cref="AttentionKernel"/>).
/// Several sequences may run in one call (<see cref="KvBatch"/>): attention then splits its rows per sequence.
/// </summary>
public sealed class AttentionOp(long layer, double scale, long kvBits = 0, long actBits = 0) : Op
{
    public long Layer { get; } = layer;
    public double Scale { get; } = scale;
    public long KvBits { get; } = kvBits;
    public long ActBits { get; } = actBits;

    public override string Mnemonic => "nn.attention";

    public override IEnumerable<KeyValuePair<string, object>> Attributes
    {
        get
        {
            yield return new("layer", Layer);
            yield return new("scale", Scale);
            if (KvBits != 0) yield return new("kv_bits", KvBits);
            if (ActBits != 0) yield return new("act_bits", ActBits);
        }
    }

    public static AttentionOp Create(AttributeSet attrs)
    {
        attrs.RejectUnknown("layer", "scale", "kv_bits", "act_bits");
        return new AttentionOp(attrs.Int("layer"), attrs.Float("scale"), attrs.Int("kv_bits", 0), attrs.Int("act_bits", 0));
    }

    public AttentionOp WithKvBits(long bits, long actBits = 0) => new(Layer, Scale, bits, actBits);

    public override TensorType[] InferTypes(IReadOnlyList<TensorType> inputs)
    {
        RequireArity(inputs, 3);
        var (q, k, v) = (inputs[0], inputs[1], inputs[2]);
        foreach (var (t, name) in new[] { (q, "q"), (k, "k"), (v, "v") })
        {
            RequireFloat(t, name);
            Require(t.Rank == 3, $"{name} must be [seq, heads, head_dim], found rank {t.Rank}");
        }
        RequireSameDim(q[0], k[0], "q and k disagree on the sequence length");
        RequireSameDim(k[0], v[0], "k and v disagree on the sequence length");
        RequireSameDim(k[1], v[1], "k and v disagree on the number of kv heads");
        RequireSameDim(q[2], k[2], "q and k disagree on head_dim");
        RequireSameDim(k[2], v[2], "k and v disagree on head_dim");
        if (!q[1].IsSymbolic && !k[1].IsSymbolic)
            Require(k[1].Size > 0 && q[1].Size % k[1].Size == 0, $"query heads ({q[1]}) must be a multiple of kv heads ({k[1]})");
        Require(Layer >= 0, $"layer must not be negative, found {Layer}");
        Require(Scale > 0, $"scale must be positive, found {Scale}");
        Require(KvBits is 0 or 4 or 8, $"kv_bits is 0 (f32 cache), 4 or 8, not {KvBits}");
        Require(ActBits is 0 or 8, $"act_bits is 0 (f32 attention) or 8, not {ActBits}");
        Require(ActBits == 0 || KvBits != 0, "act_bits = 8 multiplies the cache's codes: it needs kv_bits 8 or 4");
        return [q.WithDType(DType.F32)];
    }

    public override HostTensor[] Evaluate(IReadOnlyList<HostTensor> inputs, EvalContext context)
    {
        var (q, k, v) = (inputs[0], inputs[1], inputs[2]);
        int tokens = q.Shape[0], heads = q.Shape[1], headDim = q.Shape[2], kvHeads = k.Shape[1];
        int qRow = heads * headDim, kvRow = kvHeads * headDim;
        if (context.Batch.Sequences == 1)
        {
            var (cache, _, _) = context.Batch.Split(tokens, Mnemonic).Single();
            return [HostTensor.F32(q.Shape, AttentionKernel.Run(q.Floats, k.Span, v.Span, cache, Layer, tokens, heads, kvHeads, headDim, Scale, (int)KvBits, (int)ActBits))];
        }
        var y = new float[(long)tokens * qRow];
        foreach (var (cache, start, count) in context.Batch.Split(tokens, Mnemonic))
        {
            var part = AttentionKernel.Run(q.Floats.Slice(start * qRow, count * qRow), k.Span.Slice(start * kvRow, count * kvRow), v.Span.Slice(start * kvRow, count * kvRow),
                cache, Layer, count, heads, kvHeads, headDim, Scale, (int)KvBits, (int)ActBits);
            part.CopyTo(y.AsSpan(start * qRow));
        }
        return [HostTensor.F32(q.Shape, y)];
    }
}
