using System.Numerics.Tensors;

namespace Codesign.IR.Semantics;

/// <summary>
/// Causal scaled-dot-product attention over a KV cache. The new keys and values are appended first;
/// query s (absolute position past + s) attends to cached positions 0..past+s. Grouped-query: query
/// head h reads kv head h / (heads / kvHeads). <paramref name="kvBits"/> 8 or 4: the cache keeps each head's row quantized.
/// <paramref name="actBits"/> 8: integer attention over the cache's codes (<see cref="RunInteger"/>).
/// </summary>
public static unsafe class AttentionKernel
{
    public static float[] Run(ReadOnlyMemory<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        KvCache sequence, long layer, int tokens, int heads, int kvHeads, int headDim, double scale, int kvBits, int actBits = 0)
    {
        var cache = sequence.Layer(layer);
        int past = cache.Length;
        cache.Append(k, v, tokens, kvHeads * headDim, headDim, kvBits);
        if (actBits != 0) return RunInteger(q.Span, cache, past, tokens, heads, kvHeads, headDim, (float)scale, actBits);
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

    /// <summary>
    /// Integer attention over a quantized cache, for each query row (token s, head h; kv head g), over the keys j it sees:
    /// <list type="number">
    /// <item>the row is quantized (<see cref="ActivationQuantizer"/>, <paramref name="actBits"/> bits): codes qc, scale s_q;</item>
    /// <item>score_j = (0 + (s_k[j] · s_q) · float(Σ qc · kc_j)) · scale, the integer dot exact, in
    /// <see cref="QMatMulKernel.AccumulateGroup"/>'s order (one group a key row);</item>
    /// <item>p = softmax(score); p'_j = p_j · s_v[j], quantized as a row: codes pc, scale s_p;</item>
    /// <item>y_d = 0 + (1 · s_p) · float(Σ_j pc_j · vc_j,d).</item>
    /// </list>
    /// Integer hardware reproduces steps 1, 2 and 4 bit for bit; the softmax is where an implementation's exponential
    /// and order of sums may differ.
    /// </summary>
    public static float[] RunInteger(ReadOnlySpan<float> q, KvLayerCache cache, int past, int tokens, int heads, int kvHeads, int headDim, float scale, int actBits)
    {
        var (keyCodes, keyScales, valueCodes, valueScales) = cache.QuantizedRows();
        var output = new float[(long)tokens * heads * headDim];
        int group = heads / kvHeads, total = cache.Length;
        var qc = new int[headDim];
        var scores = new float[total];
        var pc = new int[total];
        var sums = new long[headDim];
        for (int s = 0; s < tokens; s++)
            for (int h = 0; h < heads; h++)
            {
                int g = h / group, visible = past + s + 1;
                float sq = ActivationQuantizer.QuantizeRow(q.Slice((s * heads + h) * headDim, headDim), qc, actBits);
                var sc = scores.AsSpan(0, visible);
                for (int j = 0; j < visible; j++)
                {
                    long dot = 0;
                    int at = (j * kvHeads + g) * headDim;
                    for (int d = 0; d < headDim; d++) dot += qc[d] * keyCodes[at + d];
                    sc[j] = QMatMulKernel.AccumulateGroup(0f, keyScales[j * kvHeads + g], sq, dot) * scale;
                }
                TensorPrimitives.SoftMax(sc, sc);
                for (int j = 0; j < visible; j++) sc[j] *= valueScales[j * kvHeads + g];
                float sp = ActivationQuantizer.QuantizeRow(sc, pc.AsSpan(0, visible), actBits);
                Array.Clear(sums);
                for (int j = 0; j < visible; j++)
                {
                    int at = (j * kvHeads + g) * headDim;
                    for (int d = 0; d < headDim; d++) sums[d] += (long)pc[j] * valueCodes[at + d];
                }
                var y = output.AsSpan((s * heads + h) * headDim, headDim);
                for (int d = 0; d < headDim; d++) y[d] = QMatMulKernel.AccumulateGroup(0f, 1f, sp, sums[d]);
            }
        return output;
    }
}
