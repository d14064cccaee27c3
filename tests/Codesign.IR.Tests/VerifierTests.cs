using Codesign.IR.Analysis;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

public class VerifierTests
{
    [Test]
    public void The_sample_block_verifies() => Assert.DoesNotThrow(() => Verifier.Verify(SampleGraphs.Block()));

    [Test]
    public void Matmul_with_mismatched_inner_dimension_is_rejected_by_the_builder()
    {
        var b = new GraphBuilder("g");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 8));
        var w = b.Weight("w", TensorType.Of(DType.F32, 4, 9));
        var e = Assert.Throws<VerificationException>(() => b.MatMul(x, w))!;
        Assert.That(e.Message, Does.Contain("nn.matmul").And.Contain("inner dimensions differ"));
    }

    [Test]
    public void Attention_heads_must_be_a_multiple_of_kv_heads()
    {
        var b = new GraphBuilder("g");
        var q = b.Input("q", TensorType.Of(DType.F32, "seq", 6, 8));
        var k = b.Input("k", TensorType.Of(DType.F32, "seq", 4, 8));
        var e = Assert.Throws<VerificationException>(() => b.Attention(q, k, k, 0, 0.3))!;
        Assert.That(e.Message, Does.Contain("multiple of kv heads"));
    }

    [Test]
    public void Reshape_must_keep_the_element_count_including_symbols()
    {
        var b = new GraphBuilder("g");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 12));
        Assert.DoesNotThrow(() => b.Reshape(x, ["seq", 3, 4]));
        Assert.Throws<VerificationException>(() => b.Reshape(x, ["seq", 5, 2]));
        Assert.Throws<VerificationException>(() => b.Reshape(x, ["batch", 3, 4]));
    }

    [Test]
    public void Rope_needs_integer_positions_of_the_same_length()
    {
        var b = new GraphBuilder("g");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 2, 8));
        var badPos = b.Input("p", TensorType.Of(DType.F32, "seq"));
        var otherLen = b.Input("p2", TensorType.Of(DType.I32, "n"));
        Assert.Throws<VerificationException>(() => b.Rope(x, badPos, 1e4));
        Assert.Throws<VerificationException>(() => b.Rope(x, otherLen, 1e4));
    }

    [Test]
    public void A_result_type_changed_after_construction_is_caught()
    {
        var g = SampleGraphs.Block();
        g.GetValue("x").Type = TensorType.Of(DType.F32, "seq", 17);
        var e = Assert.Throws<VerificationException>(() => Verifier.Verify(g))!;
        Assert.That(e.Message, Does.Contain("%x"));
    }

    [Test]
    public void A_cycle_is_reported()
    {
        var b = new GraphBuilder("g");
        var x = b.Input("x", TensorType.Of(DType.F32, 4));
        var a = b.Silu(x, "a");
        var c = b.Silu(a, "c");
        b.Return(c);
        a.Producer!.Inputs = [c];
        var e = Assert.Throws<VerificationException>(() => Verifier.Verify(b.Graph))!;
        Assert.That(e.Message, Does.Contain("cycle"));
    }

    [Test]
    public void Operands_from_another_graph_are_rejected()
    {
        var other = new GraphBuilder("other").Input("x", TensorType.Of(DType.F32, 4));
        var b = new GraphBuilder("g");
        b.Input("x", TensorType.Of(DType.F32, 4));
        Assert.Throws<VerificationException>(() => b.Silu(other));
    }

    [Test]
    public void Topological_order_puts_producers_first_and_last_uses_free_intermediates()
    {
        var g = SampleGraphs.Block();
        var order = GraphAnalysis.TopologicalOrder(g);
        var seen = new HashSet<Node>();
        foreach (var node in order)
        {
            foreach (var input in node.Inputs)
                if (input.Producer is { } p) Assert.That(seen, Does.Contain(p), $"{p} must precede {node}");
            seen.Add(node);
        }
        var lastUses = GraphAnalysis.LastUses(g, order);
        var freed = lastUses.Values.SelectMany(v => v).ToList();
        Assert.That(freed, Does.Not.Contain(g.GetValue("h2")), "outputs stay alive");
        Assert.That(freed, Does.Contain(g.GetValue("x")));
        Assert.That(freed.Distinct().Count(), Is.EqualTo(freed.Count));
    }

    [Test]
    public void Every_registered_op_is_printable_by_mnemonic()
    {
        Assert.That(OpRegistry.Mnemonics, Is.SupersetOf(new[]
        {
            "nn.embedding", "nn.matmul", "nn.rms_norm", "nn.rope", "nn.attention", "nn.softmax", "nn.silu",
            "math.add", "math.mul", "tensor.reshape", "tensor.transpose",
        }));
    }

    [Test]
    public void Graph_names_must_be_printable()
    {
        Assert.Throws<ArgumentException>(() => new Graph("tiny-llama"));
        Assert.Throws<ArgumentException>(() => new Graph("9lives"));
        var b = new GraphBuilder("g");
        Assert.Throws<VerificationException>(() => b.Input("has space", TensorType.Of(DType.F32, 1)));
    }
}
