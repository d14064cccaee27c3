using System.Numerics.Tensors;

namespace Codesign.IR.Semantics;

/// <summary>
/// Causal scaled-dot-product attention over a KV cache. The new keys and values are appended first;
/// query s (absolute position past + s) attends to cached positions 0..past+s. Grouped-query: query
/// head h reads kv head h / (heads / kvHeads). <paramref name="kvBits"/> 8 or 4: the cache keeps each head's row quantized.
/// </summary>
public static unsafe class AttentionKernel
{
    public static float[] Run(ReadOnlyMemory<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        KvCache sequence, long layer, int tokens, int heads, int kvHeads, int headDim, double scale, int kvBits)
    {
        var cache = sequence.Layer(layer);
        int past = cache.Length;
        cache.Append(k, v, tokens, kvHeads * headDim, headDim, kvBits);
        int total = cache.Length;
        var (cachedKeys, cachedValues) = sequence.Rows(cache);
        var output = new float[(long)tokens * heads * headDim];
        int group = heads / kvHeads;
        float fscale = (float)scale;
        fixed (float* kp = cachedKeys.Span, vp = cachedValues.Span)
        {
            nint ka = (nint)kp, va = (nint)vp;
            var qm = q;
            Parallel.For(0, tokens * heads, () => new float[total], (item, _, scores) =>
            {
                int s = item / heads, h = item % heads;
                int kvh = h / group;
                int visible = past + s + 1;
                var qrow = qm.Span.Slice((s * heads + h) * headDim, headDim);
                var keys = new ReadOnlySpan<float>((float*)ka, total * kvHeads * headDim);
                var values = new ReadOnlySpan<float>((float*)va, total * kvHeads * headDim);
                var sc = scores.AsSpan(0, visible);
                for (int j = 0; j < visible; j++)
                    sc[j] = TensorPrimitives.Dot(qrow, keys.Slice((j * kvHeads + kvh) * headDim, headDim)) * fscale;
                TensorPrimitives.SoftMax(sc, sc);
                var outRow = output.AsSpan((s * heads + h) * headDim, headDim);
                for (int j = 0; j < visible; j++)
                    TensorPrimitives.MultiplyAdd(values.Slice((j * kvHeads + kvh) * headDim, headDim), sc[j], outRow, outRow);
                return scores;
            }, _ => { });
        }
        return output;
    }
}
