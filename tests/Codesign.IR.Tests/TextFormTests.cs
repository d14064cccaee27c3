using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Text;
using Codesign.IR.Types;

namespace Codesign.IR.Tests;

public class TextFormTests
{
    [Test]
    public void Printing_a_parsed_graph_reproduces_the_text_exactly()
    {
        string text = GraphPrinter.Print(SampleGraphs.Block());
        Assert.That(GraphPrinter.Print(GraphParser.Parse(text)), Is.EqualTo(text));
    }

    [TestCase(8, 2, 2, 8, 5)]
    [TestCase(12, 3, 1, 7, 11)]
    [TestCase(20, 5, 5, 33, 3)]
    public void Round_trip_holds_for_other_shapes(int hidden, int heads, int kv, int ffn, int vocab)
    {
        string text = GraphPrinter.Print(SampleGraphs.Block(hidden, heads, kv, ffn, vocab));
        Assert.That(GraphPrinter.Print(GraphParser.Parse(text)), Is.EqualTo(text));
    }

    [Test]
    public void Printed_form_is_the_reviewed_golden_text()
    {
        var b = new GraphBuilder("tiny");
        var x = b.Input("x", TensorType.Of(DType.F32, "seq", 4));
        var w = b.Weight("w", TensorType.Of(DType.F32, 3, 4), key: "layer.w");
        var g = b.Return(b.Softmax(b.MatMul(x, w), "y"));
        Assert.That(GraphPrinter.Print(g), Is.EqualTo(
            "graph @tiny {\n" +
            "  %x = input : tensor<[seq, 4], f32>\n" +
            "  %w = weight \"layer.w\" : tensor<[3, 4], f32>\n" +
            "  %0 = nn.matmul(%x, %w) : tensor<[seq, 3], f32>\n" +
            "  %y = nn.softmax(%0) : tensor<[seq, 3], f32>\n" +
            "  return %y\n" +
            "}\n"));
    }

    [Test]
    public void Floats_print_in_shortest_round_trip_form()
    {
        var g = SampleGraphs.Block();
        string text = GraphPrinter.Print(g);
        Assert.That(text, Does.Contain("eps = 1E-06"));
        Assert.That(text, Does.Contain("theta = 500000.0"));
        Assert.That(text, Does.Contain("scale = 0.5"));
        var parsed = GraphParser.Parse(text);
        Assert.That(parsed.GetAttribute("eps"), Is.EqualTo(1e-5));
        Assert.That(parsed.GetAttribute("note"), Is.EqualTo("hand \"written\"\n"));
    }

    [Test]
    public void Quantized_dtypes_round_trip_through_the_text_form()
    {
        var scheme = QuantScheme.Create(4, 128, symmetric: false, DType.F16);
        var ternary = QuantScheme.Create(2, 0, symmetric: true, DType.F32, ternary: true);
        string text = "graph @q {\n" +
                      $"  %w = weight \"w\" : tensor<[8, 256], {DType.Quantized(scheme).Name}>\n" +
                      $"  %t = weight \"t\" : tensor<[8, 256], {DType.Quantized(ternary).Name}>\n" +
                      "  %x = input : tensor<[2], f32>\n" +
                      "  return %x\n}\n";
        var g = GraphParser.Parse(text);
        Assert.That(g.GetValue("w").Type.DType.Scheme, Is.EqualTo(scheme));
        Assert.That(g.GetValue("t").Type.DType.Scheme, Is.EqualTo(ternary));
        Assert.That(g.GetValue("w").Type.DType.Name, Is.EqualTo("quant<int4, g128, asym, f16, lsb>"));
    }

    [Test]
    public void A_syntax_error_reports_line_and_column()
    {
        string text = "graph @g {\n  %x = input : tensor<[4], f32>\n  %y = nn.silu(%x : tensor<[4], f32>\n  return %y\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That((e.Line, e.Column), Is.EqualTo((3, 19)), "the offending token is the colon after %x");
        Assert.That(e.Message, Does.StartWith("line 3:19:"));
    }

    [Test]
    public void An_unknown_op_is_reported_at_its_statement()
    {
        string text = "graph @g {\n  %x = input : tensor<[4], f32>\n\n  %y = nn.gelu_fancy(%x) : tensor<[4], f32>\n  return %y\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That((e.Line, e.Column), Is.EqualTo((4, 3)));
        Assert.That(e.Message, Does.Contain("unknown op 'nn.gelu_fancy'"));
    }

    [Test]
    public void A_value_used_before_definition_is_reported_where_it_is_used()
    {
        string text = "graph @g {\n  %x = input : tensor<[4], f32>\n  %y = math.add(%x, %z) : tensor<[4], f32>\n  return %y\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That((e.Line, e.Column), Is.EqualTo((3, 21)));
        Assert.That(e.Message, Does.Contain("%z is used before it is defined"));
    }

    [Test]
    public void A_declared_type_that_disagrees_with_the_op_is_an_error()
    {
        string text = "graph @g {\n  %x = input : tensor<[4, 3], f32>\n  %w = weight \"w\" : tensor<[5, 3], f32>\n  %y = nn.matmul(%x, %w) : tensor<[4, 6], f32>\n  return %y\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That(e.Line, Is.EqualTo(4));
        Assert.That(e.Message, Does.Contain("declared tensor<[4, 6], f32> but the op gives tensor<[4, 5], f32>"));
    }

    [Test]
    public void Defining_a_value_twice_breaks_SSA()
    {
        string text = "graph @g {\n  %x = input : tensor<[4], f32>\n  %x = nn.silu(%x) : tensor<[4], f32>\n  return %x\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That(e.Line, Is.EqualTo(3));
        Assert.That(e.Message, Does.Contain("defined twice"));
    }

    [TestCase("%y = nn.rms_norm(%x, %x) : tensor<[4], f32>", "missing attribute 'eps'")]
    [TestCase("%y = nn.rms_norm(%x, %x) {eps = \"small\"} : tensor<[4], f32>", "attribute 'eps' must be a number")]
    [TestCase("%y = nn.silu(%x) {alpha = 1} : tensor<[4], f32>", "unknown attribute 'alpha'")]
    [TestCase("%y = nn.silu(%x) : tensor<[4], q7>", "unknown dtype 'q7'")]
    [TestCase("%y = nn.silu(%x) : tensor<[4], quant<int9, g32, sym, f16, lsb>>", "1 to 8 bits")]
    public void Bad_attributes_and_types_are_reported_with_their_line(string statement, string message)
    {
        string text = $"graph @g {{\n  %x = input : tensor<[4], f32>\n  {statement}\n  return %y\n}}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That(e.Line, Is.EqualTo(3));
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void Integers_beyond_64_bits_are_an_error_not_a_crash()
    {
        string text = "graph @g {\n  %x = input : tensor<[99999999999999999999], f32>\n  return %x\n}\n";
        var e = Assert.Throws<IrParseException>(() => GraphParser.Parse(text))!;
        Assert.That(e.Line, Is.EqualTo(2));
    }
}
