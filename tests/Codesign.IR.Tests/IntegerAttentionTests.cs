using Codesign.IR.Diagnostics;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

/// <summary>
/// <c>nn.attention {act_bits = 8}</c>: attention in integers over the quantized cache's codes, as integer hardware runs it.
/// Checked against a naive version written from the op's definition (codes and scales from the raw rows, integer dots,
/// the float steps in the stated order; the softmax, where implementations may differ, the library's), in prefill and
/// decode, contiguous and paged, over GQA and odd sizes.
/// </summary>
public class IntegerAttentionTests
{
    private static float[] Random(Random r, int n, double scale = 1.0) => Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();

    /// <summary>Codes and scale of a row as the op's definition says: absmax / 127, round half to even, clamp.</summary>
    private static (int[] Codes, float Scale) Quantize(ReadOnlySpan<float> row)
    {
        float amax = 0;
        foreach (float x in row) amax = Math.Max(amax, Math.Abs(x));
        float scale = amax / 127f;
        var codes = new int[row.Length];
        for (int i = 0; i < row.Length; i++) codes[i] = scale == 0 ? 0 : Math.Clamp((int)Math.Round(row[i] / scale, MidpointRounding.ToEven), -127, 127);
        return (codes, scale);
    }

    private static float[] Naive(float[] q, float[] k, float[] v, int total, int past, int tokens, int heads, int kvHeads, int d, float scale)
    {
        var y = new float[tokens * heads * d];
        int group = heads / kvHeads;
        for (int s = 0; s < tokens; s++)
            for (int h = 0; h < heads; h++)
            {
                int g = h / group, visible = past + s + 1;
                var (qc, sq) = Quantize(q.AsSpan((s * heads + h) * d, d));
                var scores = new float[visible];
                var sv = new float[visible];
                var vcodes = new int[visible][];
                for (int j = 0; j < visible; j++)
                {
                    var (kc, sk) = Quantize(k.AsSpan((j * kvHeads + g) * d, d));
                    (vcodes[j], sv[j]) = Quantize(v.AsSpan((j * kvHeads + g) * d, d));
                    long dot = 0;
                    for (int i = 0; i < d; i++) dot += qc[i] * kc[i];
                    float term = sk * sq * (float)dot;
                    scores[j] = (0f + term) * scale;
                }
                var p = new float[visible];
                System.Numerics.Tensors.TensorPrimitives.SoftMax(scores, p);
                for (int j = 0; j < visible; j++) p[j] *= sv[j];
                var (pc, sp) = Quantize(p);
                for (int i = 0; i < d; i++)
                {
                    long acc = 0;
                    for (int j = 0; j < visible; j++) acc += (long)pc[j] * vcodes[j][i];
                    y[(s * heads + h) * d + i] = 0f + 1f * sp * (float)acc;
                }
            }
        return y;
    }

    [TestCase(5, 4, 2, 16, false), TestCase(3, 3, 3, 24, true), TestCase(7, 6, 1, 10, false), TestCase(1, 2, 2, 128, true)]
    public void Integer_attention_is_its_definition_in_prefill_and_decode(int prompt, int heads, int kvHeads, int d, bool paged)
    {
        var r = new Random(TestContext.CurrentContext.Random.Next());
        int steps = 3, total = prompt + steps;
        var q = Random(r, total * heads * d, 2);
        var k = Random(r, total * kvHeads * d, 2);
        var v = Random(r, total * kvHeads * d);
        float scale = 1 / MathF.Sqrt(d);
        var cache = paged ? new KvCache(new KvBlockPool(64, 4, 8)) : new KvCache();
        var context = new EvalContext(new Dictionary<string, long>(), cache);
        var op = new AttentionOp(2, scale, kvBits: 8, actBits: 8);
        float[] Step(int from, int count) => op.Evaluate([
            HostTensor.F32([count, heads, d], q.AsMemory(from * heads * d, count * heads * d)),
            HostTensor.F32([count, kvHeads, d], k.AsMemory(from * kvHeads * d, count * kvHeads * d)),
            HostTensor.F32([count, kvHeads, d], v.AsMemory(from * kvHeads * d, count * kvHeads * d))], context)[0].Floats.ToArray();

        var got = Step(0, prompt).Concat(Enumerable.Range(prompt, steps).SelectMany(t => Step(t, 1))).ToArray();
        var expected = Naive(q, k, v, total, 0, total, heads, kvHeads, d, scale);
        Assert.That(got.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)), "every output is the definition's bits");
    }

    [Test]
    public void Integer_attention_stays_close_to_f32_attention_over_the_same_cache()
    {
        var r = new Random(TestContext.CurrentContext.Random.Next());
        int tokens = 9, heads = 4, kvHeads = 2, d = 32;
        var q = Random(r, tokens * heads * d);
        var k = Random(r, tokens * kvHeads * d);
        var v = Random(r, tokens * kvHeads * d);
        float[] Run(long actBits)
        {
            var context = new EvalContext(new Dictionary<string, long>(), new KvCache());
            return new AttentionOp(0, 1 / Math.Sqrt(d), 8, actBits).Evaluate([HostTensor.F32([tokens, heads, d], q), HostTensor.F32([tokens, kvHeads, d], k),
                HostTensor.F32([tokens, kvHeads, d], v)], context)[0].Floats.ToArray();
        }
        var integer = Run(8);
        var f32 = Run(0);
        double largest = f32.Max(Math.Abs), worst = integer.Zip(f32).Max(p => Math.Abs(p.First - p.Second));
        Assert.That(worst, Is.LessThan(0.05 * largest), "int8 queries and probabilities cost a few percent at most");
        Assert.That(worst, Is.GreaterThan(0), "and they are not the f32 path");
    }

    [Test]
    public void Act_bits_need_a_quantized_cache_and_are_8()
    {
        var t = TensorType.Of(DType.F32, [Dim.Of(3), Dim.Of(2), Dim.Of(8)]);
        Assert.That(() => new AttentionOp(0, 0.5, kvBits: 0, actBits: 8).InferTypes([t, t, t]), Throws.InstanceOf<CodesignException>().With.Message.Contain("needs kv_bits 8 or 4"));
        Assert.That(() => new AttentionOp(0, 0.5, kvBits: 8, actBits: 4).InferTypes([t, t, t]), Throws.InstanceOf<CodesignException>().With.Message.Contain("act_bits is 0 (f32 attention) or 8, not 4"));
        var op = new AttentionOp(0, 0.5, 8, 8);
        Assert.That(op.Attributes.Select(a => a.Key), Is.EqualTo(new[] { "layer", "scale", "kv_bits", "act_bits" }));
    }
}
