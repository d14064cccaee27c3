using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Quantization;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

/// <summary>
/// One decode matvec on the matrix engine behind the U280's port, dense against block-sparse at several densities
/// (random masks, seed fixed): the performance model's cycles (exact or within 1 % of the Verilated RTL in
/// MatrixEngineTests), each as a ratio to the dense product's and to the ideal, the dense cycles times the density.
/// Shows where the per-block-row cost (a scan of its mask bits and three port round trips: scales, zero points,
/// codes) stops mattering: small matrices pay it, LLaMA-2-7B-shaped ones do not.
/// </summary>
internal static class FpgaBlockSparseEstimate
{
    public static void Run()
    {
        var u280 = FpgaDevices.Load("u280");
        var port = MemoryPort.Of(u280);
        Console.WriteLine($"device {u280.Name}: {u280.ClockMhz} MHz; memory port {port.BytesPerCycle} bytes/cycle after {port.LatencyCycles} cycles; W4A8 asym f16 scales, one activation row");
        Console.WriteLine();
        Console.WriteLine("| matrix [N x K] | group | blocks | kept | dense cycles | block-sparse cycles | of dense | ideal (kept) | of ideal |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (n, k, group, rows, cols) in new[]
        {
            (704, 256, 32, 32, 32),     // tiny-llama-a's gate/up
            (256, 704, 32, 32, 32),     // its down_proj
            (4096, 4096, 128, 32, 32),  // LLaMA-2-7B q/o
            (11008, 4096, 128, 32, 32), // its gate/up
            (4096, 11008, 128, 8, 64),  // its down_proj: 86 groups a row, so 8 rows a block (and 64 columns, for the mask) fit the buffers
        })
            foreach (double density in new[] { 0.7, 0.5, 0.25 })
                Row(port, n, k, group, rows, cols, density);
    }

    private static void Row(MemoryPort port, int n, int k, int group, int blockRows, int blockCols, double density)
    {
        var scheme = QuantScheme.Create(4, group, false, DType.F16);
        var format = SparseFormat.Block(blockRows, blockCols);
        var structure = new SparseStructure(format, n, k);
        var random = new Random(n * 31 + k);
        var kept = new bool[(long)n * k];
        int gridRows = (n + blockRows - 1) / blockRows, gridCols = k / blockCols;
        var keptBlocks = Enumerable.Range(0, gridRows * gridCols).OrderBy(_ => random.Next()).Take((int)Math.Round(gridRows * gridCols * density)).ToHashSet();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < k; c++) kept[(long)r * k + c] = keptBlocks.Contains(r / blockRows * gridCols + c / blockCols);
        var mask = new byte[structure.StructureBytes];
        structure.WriteStructure(kept, mask);
        var model = new PerformanceModel(port) { Memory = (address, data) => mask.AsSpan((int)address, data.Length).CopyTo(data) };
        var (blockFormat, blockLayout) = MatrixLayout.BlockShape(blockRows, blockCols)!.Value;
        var dense = new Instruction(Opcode.MatVec, (byte)scheme.Bits, Units.None, Units.None, 0, Instruction.Pack16(n, k), Instruction.Pack16(1, group), 0, MatrixLayout.Of(scheme));
        var sparse = dense with { Function = (byte)(scheme.Bits | blockFormat), Layout = (byte)(MatrixLayout.Of(scheme) | blockLayout) };
        long denseCycles = model.Cycles(dense)!.Value, sparseCycles = model.Cycles(sparse)!.Value;
        double keptShare = keptBlocks.Count / (double)(gridRows * gridCols), ideal = denseCycles * keptShare;
        Console.WriteLine($"| {n} x {k} | {group} | {blockRows}x{blockCols} | {keptShare:P0} | {denseCycles:N0} | {sparseCycles:N0} | {sparseCycles / (double)denseCycles:F3} | {ideal:N0} | {sparseCycles / ideal:F3} |");
    }
}
