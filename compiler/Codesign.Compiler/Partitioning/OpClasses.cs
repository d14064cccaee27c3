using Codesign.IR.Ops;

namespace Codesign.Compiler.Partitioning;

/// <summary>
/// The groups of ops a placement names (<c>matmul=gpu</c> rather than four mnemonics): every op of the IR belongs
/// to exactly one class.
/// </summary>
public static class OpClasses
{
    public static readonly IReadOnlyDictionary<string, string[]> Members = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["matmul"] = ["nn.matmul", "quant.qmatmul", "lut.mpgemm", "sparse.spmatmul"],
        ["attention"] = ["nn.attention"],
        ["norm"] = ["nn.rms_norm", "nn.softmax"],
        ["elementwise"] = ["math.add", "math.mul", "nn.silu"],
        ["rope"] = ["nn.rope"],
        ["layout"] = ["nn.embedding", "tensor.reshape", "tensor.transpose"],
    };

    private static readonly Dictionary<string, string> ClassOfMnemonic =
        Members.SelectMany(kv => kv.Value.Select(m => (m, kv.Key))).ToDictionary(p => p.m, p => p.Key, StringComparer.Ordinal);

    public static string Of(Op op) =>
        ClassOfMnemonic.TryGetValue(op.Mnemonic, out var c) ? c
            : throw new InvalidOperationException($"op {op.Mnemonic} belongs to no placement class: add it to {nameof(OpClasses)}");

    public static bool IsMnemonic(string name) => ClassOfMnemonic.ContainsKey(name);
}
