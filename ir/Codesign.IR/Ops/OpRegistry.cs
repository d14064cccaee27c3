using Codesign.IR.Diagnostics;

namespace Codesign.IR.Ops;

/// <summary>Mnemonic → factory for every op the text form can name. Later op families register here too.</summary>
public static class OpRegistry
{
    private static readonly Dictionary<string, Func<AttributeSet, Op>> Factories = new(StringComparer.Ordinal)
    {
        ["nn.embedding"] = EmbeddingOp.Create,
        ["nn.matmul"] = MatMulOp.Create,
        ["quant.qmatmul"] = QMatMulOp.Create,
        ["lut.mpgemm"] = LutMatMulOp.Create,
        ["sparse.spmatmul"] = SpMatMulOp.Create,
        ["nn.rms_norm"] = RmsNormOp.Create,
        ["nn.rope"] = RopeOp.Create,
        ["nn.attention"] = AttentionOp.Create,
        ["nn.softmax"] = SoftmaxOp.Create,
        ["nn.silu"] = SiluOp.Create,
        ["math.add"] = AddOp.Create,
        ["math.mul"] = MulOp.Create,
        ["tensor.reshape"] = ReshapeOp.Create,
        ["tensor.transpose"] = TransposeOp.Create,
    };

    public static IEnumerable<string> Mnemonics => Factories.Keys;

    public static bool IsKnown(string mnemonic) => Factories.ContainsKey(mnemonic);

    public static Op Create(string mnemonic, IEnumerable<KeyValuePair<string, object>> attributes)
    {
        if (!Factories.TryGetValue(mnemonic, out var factory))
            throw new VerificationException($"unknown op '{mnemonic}'");
        return factory(new AttributeSet(mnemonic, attributes));
    }
}
