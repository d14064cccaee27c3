using System.Globalization;
using System.Text;
using Antlr4.Runtime;
using Antlr4.Runtime.Tree;
using Codesign.IR.Analysis;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Text.Generated;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.IR.Text;

/// <summary>
/// Reads the text form (grammar <c>CodesignIR.g4</c>, parser generated at build time) into a verified graph.
/// Syntax and semantic errors carry the line and column of the offending token.
/// </summary>
public static class GraphParser
{
    public static Graph Parse(string text)
    {
        var lexer = new CodesignIRLexer(new AntlrInputStream(text));
        lexer.RemoveErrorListeners();
        lexer.AddErrorListener(ThrowingErrorListener.Instance);
        var parser = new CodesignIRParser(new CommonTokenStream(lexer));
        parser.RemoveErrorListeners();
        parser.AddErrorListener(ThrowingErrorListener.Instance);
        var tree = parser.graphDef();

        var graph = new Graph(tree.ident().GetText());
        if (tree.graphAttrs() is { } ga)
        {
            foreach (var (name, value) in Attributes(ga.attrDict()))
                graph.SetAttribute(name, value);
        }
        foreach (var statement in tree.statement())
        {
            At(statement.Start, () => Add(graph, statement));
        }
        var ret = tree.returnStmt();
        At(ret.Start, () => graph.SetOutputs(ret.VALUE_ID().Select(id => Lookup(graph, id)).ToArray()));
        At(tree.Start, () => Verifier.Verify(graph));
        return graph;
    }

    private static void Add(Graph graph, CodesignIRParser.StatementContext statement)
    {
        if (statement.inputDecl() is { } input)
        {
            graph.AddInput(Name(input.VALUE_ID()), TypeOf(input.tensorType()));
        }
        else if (statement.weightDecl() is { } weight)
        {
            graph.AddWeight(Name(weight.VALUE_ID()), Unquote(weight.STRING().GetText()), TypeOf(weight.tensorType()));
        }
        else
        {
            var node = statement.nodeDef();
            string mnemonic = node.ident().GetText();
            var op = OpRegistry.Create(mnemonic, node.attrDict() is { } ad ? Attributes(ad) : []);
            var operands = node.operands()?.VALUE_ID().Select(id => Lookup(graph, id)).ToArray() ?? [];
            var names = node.VALUE_ID().Select(Name).ToArray();
            var types = node.tensorType().Select(TypeOf).ToArray();
            if (names.Length != types.Length)
                throw new VerificationException($"{mnemonic}: {names.Length} result name(s) but {types.Length} type(s)");
            var inferred = op.InferTypes(operands.Select(v => v.Type).ToArray());
            if (inferred.Length != names.Length)
                throw new VerificationException($"{mnemonic}: produces {inferred.Length} result(s), {names.Length} declared");
            for (int i = 0; i < inferred.Length; i++)
            {
                if (!inferred[i].Equals(types[i]))
                    throw new VerificationException($"{mnemonic}: result %{names[i]} is declared {types[i]} but the op gives {inferred[i]}");
            }
            graph.AddNode(op, operands, names, types);
        }
    }

    /// <summary>Runs a semantic step and reports its failure at the token where the construct starts.</summary>
    private static void At(IToken token, Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is VerificationException or ArgumentException)
        {
            throw new IrParseException(token.Line, token.Column + 1, e.Message);
        }
    }

    private static string Name(ITerminalNode id) => id.GetText()[1..];

    private static Value Lookup(Graph graph, ITerminalNode id)
    {
        var v = graph.FindValue(Name(id));
        return v ?? throw new IrParseException(id.Symbol.Line, id.Symbol.Column + 1, $"value {id.GetText()} is used before it is defined");
    }

    private static TensorType TypeOf(CodesignIRParser.TensorTypeContext t) =>
        new(Dims(t.dimList()), DTypeOf(t.dtype()));

    private static DType DTypeOf(CodesignIRParser.DtypeContext d)
    {
        if (d.dtype() is { } element)
            return DType.Sparse(SparseFormat.FromToken(d.ident(0).GetText()), DTypeOf(element));
        var idents = d.ident().Select(i => i.GetText()).ToArray();
        return d.ChildCount == 1 ? DType.Parse(idents[0]) : DType.Quantized(QuantScheme.FromTokens(idents));
    }

    private static Dim[] Dims(CodesignIRParser.DimListContext list) =>
        list.dim().Select(d => d.INT() is { } i ? Dim.Of(ParseInt(i.Symbol)) : Dim.Sym(d.ident().GetText())).ToArray();

    private static List<KeyValuePair<string, object>> Attributes(CodesignIRParser.AttrDictContext dict) =>
        dict.attr().Select(a => new KeyValuePair<string, object>(a.ident().GetText(), AttrValue(a.attrValue()))).ToList();

    private static object AttrValue(CodesignIRParser.AttrValueContext v)
    {
        if (v.INT() is { } i) return ParseInt(i.Symbol);
        if (v.FLOAT() is { } f) return double.Parse(f.GetText(), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (v.STRING() is { } s) return Unquote(s.GetText());
        if (v.TRUE() is not null) return true;
        if (v.FALSE() is not null) return false;
        return Dims(v.dimList());
    }

    private static long ParseInt(IToken token) =>
        long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw new IrParseException(token.Line, token.Column + 1, $"integer {token.Text} does not fit in 64 bits");

    private static string Unquote(string quoted)
    {
        var b = new StringBuilder();
        for (int i = 1; i < quoted.Length - 1; i++)
        {
            char c = quoted[i];
            if (c == '\\')
            {
                c = quoted[++i] switch { 'n' => '\n', 't' => '\t', var other => other };
            }
            b.Append(c);
        }
        return b.ToString();
    }
}
