using Codesign.IR.Types;

namespace Codesign.Compiler.Sparsity;

/// <summary>
/// Chooses which weights of W [N, K] to keep. Scores are |W| (magnitude) or |W|·‖x_c‖₂ (Wanda, Sun et al.
/// 2024, with ‖x_c‖ from calibration). N:M keeps the N best of every M along K; unstructured drops the
/// lowest-scoring fraction of each output row (Wanda's comparison group); block drops the lowest-scoring
/// fraction of whole blocks (score = sum over the block).
/// </summary>
public static class Pruner
{
    public static bool[] Mask(ReadOnlySpan<float> w, int rows, int cols, SparseFormat format, double ratio, double[]? inputNorms)
    {
        var score = new double[(long)rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) score[(long)r * cols + c] = Math.Abs(w[r * cols + c]) * (inputNorms?[c] ?? 1.0);
        var kept = new bool[score.LongLength];
        switch (format.Kind)
        {
            case SparseKind.NOfM:
                if (cols % format.M != 0)
                    throw new ArgumentException($"{format} sparsity needs K ({cols}) to be a multiple of {format.M}");
                Parallel.For(0, rows, r =>
                {
                    for (int g = 0; g < cols; g += format.M)
                        foreach (int j in TopIndices(score, (long)r * cols + g, format.M, format.N))
                            kept[(long)r * cols + g + j] = true;
                });
                break;
            case SparseKind.Unstructured:
                int keep = cols - (int)Math.Round(cols * ratio);
                Parallel.For(0, rows, r =>
                {
                    foreach (int j in TopIndices(score, (long)r * cols, cols, keep)) kept[(long)r * cols + j] = true;
                });
                break;
            default:
                PruneBlocks(score, kept, rows, cols, format, ratio);
                break;
        }
        return kept;
    }

    /// <summary>Offsets of the <paramref name="count"/> largest scores in score[start..start+length]; ties go to the lower offset.</summary>
    private static IEnumerable<int> TopIndices(double[] score, long start, int length, int count) =>
        Enumerable.Range(0, length).OrderByDescending(j => score[start + j]).ThenBy(j => j).Take(count).ToArray();

    private static void PruneBlocks(double[] score, bool[] kept, int rows, int cols, SparseFormat f, double ratio)
    {
        int gridRows = (rows + f.BlockRows - 1) / f.BlockRows, gridCols = (cols + f.BlockCols - 1) / f.BlockCols;
        var blockScore = new double[gridRows * gridCols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) blockScore[r / f.BlockRows * gridCols + c / f.BlockCols] += score[(long)r * cols + c];
        int keepBlocks = blockScore.Length - (int)Math.Round(blockScore.Length * ratio);
        var keptBlocks = new HashSet<int>(TopIndices(blockScore, 0, blockScore.Length, keepBlocks));
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) kept[(long)r * cols + c] = keptBlocks.Contains(r / f.BlockRows * gridCols + c / f.BlockCols);
    }
}
