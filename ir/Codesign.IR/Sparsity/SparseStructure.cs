using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Types;

namespace Codesign.IR.Sparsity;

/// <summary>
/// The structure section of a sparse matrix and the order of its stored values:
/// N:M — per row, for each group of M along K, the N kept column offsets ascending, each in
/// <see cref="SparseFormat.IndexBits"/> bits, rows starting on a byte; values row-major.
/// Block R×C — one bit per block of the block grid (row-major, partial edge blocks included);
/// values block by block, each block's in-range weights row-major.
/// Unstructured — one bit per weight, rows starting on a byte; values row-major.
/// </summary>
public sealed class SparseStructure
{
    public SparseStructure(SparseFormat format, int rows, int cols)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        if (format.Kind == SparseKind.NOfM && cols % format.M != 0)
            throw new ArgumentException($"{format} sparsity needs K ({cols}) to be a multiple of {format.M}");
    }

    public SparseFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }

    private int BlockGridRows => (Rows + Format.BlockRows - 1) / Format.BlockRows;
    private int BlockGridCols => (Cols + Format.BlockCols - 1) / Format.BlockCols;
    private int NOfMRowBytes => BitPacking.ByteCount((long)Cols / Format.M * Format.N, Format.IndexBits);
    private int MaskRowBytes => BitPacking.ByteCount(Cols, 1);

    public long StructureBytes => Format.Kind switch
    {
        SparseKind.NOfM => (long)Rows * NOfMRowBytes,
        SparseKind.Block => BitPacking.ByteCount((long)BlockGridRows * BlockGridCols, 1),
        _ => (long)Rows * MaskRowBytes,
    };

    /// <summary>Throws when the mask does not have this format's shape (exactly N per group, whole blocks).</summary>
    public void CheckMask(bool[] kept)
    {
        switch (Format.Kind)
        {
            case SparseKind.NOfM:
                for (int r = 0; r < Rows; r++)
                    for (int g = 0; g < Cols; g += Format.M)
                    {
                        int n = 0;
                        for (int j = 0; j < Format.M; j++) if (kept[r * Cols + g + j]) n++;
                        if (n != Format.N)
                            throw new ArgumentException($"{Format} sparsity: row {r}, columns {g}..{g + Format.M - 1} keep {n} weights, not {Format.N}");
                    }
                break;
            case SparseKind.Block:
                for (int r = 0; r < Rows; r++)
                    for (int c = 0; c < Cols; c++)
                    {
                        int r0 = r / Format.BlockRows * Format.BlockRows, c0 = c / Format.BlockCols * Format.BlockCols;
                        if (kept[r * Cols + c] != kept[r0 * Cols + c0])
                            throw new ArgumentException($"{Format} sparsity: the block at ({r0}, {c0}) is partly kept");
                    }
                break;
        }
    }

    public void WriteStructure(bool[] kept, Span<byte> dest)
    {
        switch (Format.Kind)
        {
            case SparseKind.NOfM:
                for (int r = 0; r < Rows; r++)
                {
                    var row = dest.Slice(r * NOfMRowBytes, NOfMRowBytes);
                    long i = 0;
                    for (int c = 0; c < Cols; c++)
                        if (kept[r * Cols + c]) BitPacking.Write(row, i++, Format.IndexBits, c % Format.M);
                }
                break;
            case SparseKind.Block:
                for (int br = 0; br < BlockGridRows; br++)
                    for (int bc = 0; bc < BlockGridCols; bc++)
                        BitPacking.Write(dest, (long)br * BlockGridCols + bc, 1, kept[(long)br * Format.BlockRows * Cols + bc * Format.BlockCols] ? 1 : 0);
                break;
            default:
                for (int r = 0; r < Rows; r++)
                    for (int c = 0; c < Cols; c++)
                        BitPacking.Write(dest.Slice(r * MaskRowBytes, MaskRowBytes), c, 1, kept[(long)r * Cols + c] ? 1 : 0);
                break;
        }
    }

    /// <summary>The mask the structure encodes; N:M offsets must ascend strictly within each group.</summary>
    public bool[] ReadStructure(ReadOnlySpan<byte> src)
    {
        var kept = new bool[(long)Rows * Cols];
        switch (Format.Kind)
        {
            case SparseKind.NOfM:
                for (int r = 0; r < Rows; r++)
                {
                    var row = src.Slice(r * NOfMRowBytes, NOfMRowBytes);
                    long i = 0;
                    for (int g = 0; g < Cols; g += Format.M)
                    {
                        int previous = -1;
                        for (int j = 0; j < Format.N; j++)
                        {
                            int offset = BitPacking.Read(row, i++, Format.IndexBits);
                            if (offset <= previous || offset >= Format.M)
                                throw new CodesignException($"{Format} sparse structure: row {r}, group at column {g} has offset {offset} after {previous} (offsets ascend below {Format.M})");
                            previous = offset;
                            kept[(long)r * Cols + g + offset] = true;
                        }
                    }
                }
                break;
            case SparseKind.Block:
                for (int br = 0; br < BlockGridRows; br++)
                    for (int bc = 0; bc < BlockGridCols; bc++)
                    {
                        if (BitPacking.Read(src, (long)br * BlockGridCols + bc, 1) == 0) continue;
                        for (int r = br * Format.BlockRows; r < Math.Min(Rows, (br + 1) * Format.BlockRows); r++)
                            for (int c = bc * Format.BlockCols; c < Math.Min(Cols, (bc + 1) * Format.BlockCols); c++)
                                kept[(long)r * Cols + c] = true;
                    }
                break;
            default:
                for (int r = 0; r < Rows; r++)
                    for (int c = 0; c < Cols; c++)
                        kept[(long)r * Cols + c] = BitPacking.Read(src.Slice(r * MaskRowBytes, MaskRowBytes), c, 1) == 1;
                break;
        }
        return kept;
    }

    public IEnumerable<long> StoredPositions(bool[] kept)
    {
        if (Format.Kind != SparseKind.Block)
        {
            for (long i = 0; i < kept.LongLength; i++)
                if (kept[i]) yield return i;
            yield break;
        }
        for (int br = 0; br < BlockGridRows; br++)
            for (int bc = 0; bc < BlockGridCols; bc++)
            {
                if (!kept[(long)br * Format.BlockRows * Cols + bc * Format.BlockCols]) continue;
                for (int r = br * Format.BlockRows; r < Math.Min(Rows, (br + 1) * Format.BlockRows); r++)
                    for (int c = bc * Format.BlockCols; c < Math.Min(Cols, (bc + 1) * Format.BlockCols); c++)
                        yield return (long)r * Cols + c;
            }
    }
}
