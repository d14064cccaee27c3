using Codesign.IR.Graphs;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

/// <summary>Hand-built graphs that use every op.</summary>
internal static class SampleGraphs
{
    /// <summary>One LLaMA-style block with symbolic seq, GQA attention, SwiGLU MLP, plus softmax and transpose.</summary>
    public static Graph Block(int hidden = 16, int heads = 4, int kvHeads = 2, int ffn = 24, int vocab = 32)
    {
        int hd = hidden / heads;
        var b = new GraphBuilder("block");
        b.Graph.SetAttribute("note", "hand \"written\"\n");
        b.Graph.SetAttribute("flag", true);
        b.Graph.SetAttribute("eps", 1e-5);
        Dim seq = "seq";
        var tokens = b.Input("tokens", TensorType.Of(DType.I32, seq));
        var pos = b.Input("positions", TensorType.Of(DType.I32, seq));
        var emb = b.Weight("emb", TensorType.Of(DType.F32, vocab, hidden));
        var norm = b.Weight("norm", TensorType.Of(DType.F16, hidden), key: "weights/norm");
        var wq = b.Weight("wq", TensorType.Of(DType.BF16, hidden, hidden));
        var wk = b.Weight("wk", TensorType.Of(DType.F32, kvHeads * hd, hidden));
        var wv = b.Weight("wv", TensorType.Of(DType.F32, kvHeads * hd, hidden));
        var wg = b.Weight("w.gate", TensorType.Of(DType.F32, ffn, hidden));
        var wu = b.Weight("w.up", TensorType.Of(DType.F32, ffn, hidden));
        var wd = b.Weight("w.down", TensorType.Of(DType.F32, hidden, ffn));
        var h = b.Embedding(tokens, emb);
        var x = b.RmsNorm(h, norm, 1e-6, "x");
        var q = b.Rope(b.Reshape(b.MatMul(x, wq), [seq, heads, hd]), pos, 500000.0);
        var k = b.Rope(b.Reshape(b.MatMul(x, wk), [seq, kvHeads, hd]), pos, 500000.0);
        var v = b.Reshape(b.MatMul(x, wv), [seq, kvHeads, hd]);
        var a = b.Reshape(b.Attention(q, k, v, 0, 1 / Math.Sqrt(hd)), [seq, hidden], "attn-out");
        h = b.Add(h, a);
        var m = b.MatMul(b.Mul(b.Silu(b.MatMul(h, wg)), b.MatMul(h, wu)), wd);
        h = b.Add(h, m, "h2");
        var t = b.Transpose(h, [1, 0], "ht");
        var s = b.Softmax(t, "probs");
        return b.Return(h, s);
    }
}
