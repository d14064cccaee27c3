using System.Globalization;
using System.Text.RegularExpressions;

namespace Codesign.IR.Types;

public enum SparseKind
{
    /// <summary>N kept of every M consecutive weights along K (2:4, 4:8, 1:4 …).</summary>
    NOfM,
    /// <summary>Whole Rows×Cols blocks kept or dropped.</summary>
    Block,
    /// <summary>Any weight may be dropped; a bitmask says which are kept.</summary>
    Unstructured,
}

/// <summary>
/// The structure of a sparse weight matrix [N, K], as data. Text tokens: <c>nm_2_4</c>,
/// <c>block_4x4</c>, <c>unstructured</c>. The storage layout each one implies is in docs/weight-formats.md.
/// </summary>
public sealed partial record SparseFormat(SparseKind Kind, int N = 0, int M = 0, int BlockRows = 0, int BlockCols = 0)
{
    public static SparseFormat NOfM(int n, int m) => Checked(new(SparseKind.NOfM, N: n, M: m));
    public static SparseFormat Block(int rows, int cols) => Checked(new(SparseKind.Block, BlockRows: rows, BlockCols: cols));
    public static readonly SparseFormat Unstructured = new(SparseKind.Unstructured);

    private static SparseFormat Checked(SparseFormat f)
    {
        f.Validate();
        return f;
    }

    public void Validate()
    {
        switch (Kind)
        {
            case SparseKind.NOfM:
                if (M is < 2 or > 256 || N < 1 || N >= M)
                    throw new ArgumentException($"an N:M pattern needs 1 <= N < M <= 256, not {N}:{M}");
                break;
            case SparseKind.Block:
                if (BlockRows is < 1 or > 4096 || BlockCols is < 1 or > 4096 || BlockRows * BlockCols < 2)
                    throw new ArgumentException($"a sparse block is 1..4096 on each side and at least 2 weights, not {BlockRows}x{BlockCols}");
                break;
        }
    }

    /// <summary>Bits of one index into a group of M (N:M storage).</summary>
    public int IndexBits => Kind == SparseKind.NOfM ? Math.Max(1, (int)Math.Ceiling(Math.Log2(M))) : 0;

    public string ToToken() => Kind switch
    {
        SparseKind.NOfM => $"nm_{N}_{M}",
        SparseKind.Block => $"block_{BlockRows}x{BlockCols}",
        _ => "unstructured",
    };

    /// <summary>Human form used by recipes and reports: <c>2:4</c>, <c>block4x4</c>, <c>unstructured</c>.</summary>
    public override string ToString() => Kind switch
    {
        SparseKind.NOfM => $"{N}:{M}",
        SparseKind.Block => $"block{BlockRows}x{BlockCols}",
        _ => "unstructured",
    };

    public static SparseFormat FromToken(string token)
    {
        if (token == "unstructured") return Unstructured;
        var nm = NOfMToken().Match(token);
        if (nm.Success) return NOfM(Int(nm.Groups[1].Value), Int(nm.Groups[2].Value));
        var block = BlockToken().Match(token);
        if (block.Success) return Block(Int(block.Groups[1].Value), Int(block.Groups[2].Value));
        throw new ArgumentException($"unknown sparsity '{token}': expected nm_N_M, block_RxC or unstructured");
    }

    private static int Int(string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"'{s}' is out of range");

    [GeneratedRegex(@"^nm_(\d{1,4})_(\d{1,4})$")]
    private static partial Regex NOfMToken();

    [GeneratedRegex(@"^block_(\d{1,5})x(\d{1,5})$")]
    private static partial Regex BlockToken();
}
