using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The accelerator RTL's matrix engine (activation quantizer, weight streaming and unpacking, DSP chain,
/// dequantize-after-group) on group-wise integer weights of every packing, against the interpreter's
/// QMatMulKernel.IntegerGroupAccumulate (through the functional model) bit for bit.
/// </summary>
[Category("Verilator")]
public class MatrixEngineTests : RequiresVerilator
{
    private static readonly OnChipBuffers Buffers = new(220, 2, 2);
    // A small scale buffer, so a matrix streams in many blocks of rows.
    private static readonly AcceleratorRtl Design = new(Buffers, 64, ScaleEntries: 24, IndexLines: 4);
    private const long ExternalBytes = 40_000;

    private static IEnumerable<TestCaseData> Schemes()
    {
        foreach (var (bits, group, symmetric, scales, ternary) in new[]
        {
            (8, 32, true, DType.F32, false), (4, 16, false, DType.F32, false), (4, 0, true, DType.F16, false), (3, 24, false, DType.BF16, false),
            (2, 8, true, DType.F32, false), (2, 40, false, DType.F16, false), (2, 16, true, DType.F32, true), (8, 0, false, DType.BF16, false),
            (3, 0, true, DType.F32, false), (4, 20, true, DType.BF16, false),
        })
            yield return new TestCaseData(QuantScheme.Create(bits, group, symmetric, scales, ternary: ternary)).SetArgDisplayNames($"{(ternary ? "ternary" : $"int{bits}")} g{group} {(symmetric ? "sym" : "asym")} {scales}");
    }

    private static Instruction MatVec(QuantScheme scheme, long weightsUnit, int n, int k, int m, int input, int output) =>
        new(m == 1 ? Opcode.MatVec : Opcode.MatMat, (byte)scheme.Bits, Units.None, Units.None, (uint)weightsUnit,
            Instruction.Pack16(n, k), Instruction.Pack16(m, scheme.GroupSize == 0 ? k : scheme.GroupSize), Instruction.Pack16(input, output), MatrixLayout.Of(scheme));


    [TestCaseSource(nameof(Schemes))]
    public void Group_wise_matvec_equals_the_interpreter_bit_for_bit(QuantScheme scheme)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 3; trial++)
        {
            int k = r.Next(1, 150), n = r.Next(1, 45), m = trial == 2 ? r.Next(2, 4) : 1;
            if ((long)m * (k + n) > Buffers.ActivationUnits * 4 - 8) m = 1;
            var matrix = RandomTensors.RandomMatrix(r, scheme, n, k);
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            if (trial == 1) Array.Clear(x, 0, k);  // an all-zero row has scale 0 and codes 0
            if (trial == 0)
            {
                // Half-integers with absmax 127: the scale is 1 and every code is a tie that rounds to even.
                for (int i = 0; i < x.Length; i++) x[i] = r.Next(-127, 127) + 0.5f;
                x[r.Next(k)] = r.Next(2) == 0 ? 127f : -127f;
            }
            AssertRtlMatches(r, x, matrix.Pack(), m, k, n, (weights, output) => MatVec(scheme, weights, n, k, m, 0, output), QMatMulKernel.IntegerGroupAccumulate(x, matrix, m, 8), $"trial {trial}");
        }
    }

    /// <summary>
    /// Runs one group-wise matrix instruction on the RTL and the functional model: the activations <paramref name="x"/>
    /// [m, k] at unit 0, the <paramref name="packed"/> weights after them, the instruction <paramref name="matrix"/> makes
    /// for (weights unit, output unit), behind a random port. Asserts the functional model gives <paramref name="reference"/>,
    /// the RTL the same bits, and the performance model the RTL's cycles within 10 %.
    /// </summary>
    private static void AssertRtlMatches(Random r, float[] x, byte[] packed, int m, int k, int n, Func<long, int, Instruction> matrix, float[] reference, string trial,
        AcceleratorRtl? design = null)
    {
        design ??= Design;
        var external = new byte[ExternalBytes];
        Buffer.BlockCopy(x, 0, external, 0, x.Length * 4);
        long weights = 200;  // after the activations: 3 rows of up to 149 floats
        packed.CopyTo(external, weights * 16);
        int outputUnit = (int)FpgaMemoryPlan.UnitsOf((long)m * k * 4) + r.Next(3);
        long resultUnit = weights + FpgaMemoryPlan.UnitsOf(packed.Length);
        var instruction = matrix(weights, outputUnit);
        var program = new[]
        {
            VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, x.Length * 4),
            instruction,
            VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, resultUnit, outputUnit, m * n * 4),
            VerilatedAcceleratorTests.End,
        };
        var port = new MemoryPort(r.Next(0, 20), new[] { 16.0, 7.5 }[r.Next(2)]);
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, port);
        rtl.CycleLimit = 2_000_000;
        var (got, run) = Run(rtl, external, program, resultUnit, m * n);
        var (expected, _) = Run(new FunctionalAccelerator(ExternalBytes, Buffers), external, program, resultUnit, m * n);
        for (int i = 0; i < reference.Length; i++)
            Assert.That(BitConverter.SingleToUInt32Bits(expected[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(reference[i])), $"the functional model is the interpreter's kernel (output {i})");
        for (int i = 0; i < got.Length; i++)
            Assert.That(BitConverter.SingleToUInt32Bits(got[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected[i])),
                $"{trial}: [{m}x{k}]·[{n}x{k}]ᵀ output {i}: rtl {got[i]:R}, interpreter {expected[i]:R}");
        long? predicted = new PerformanceModel(port, design.ScaleEntries, design.IndexLines) { Memory = (address, data) => external.AsSpan((int)address, data.Length).CopyTo(data) }.Cycles(instruction);
        long measured = run.InstructionCycles![1];
        TestContext.Out.WriteLine($"{instruction} behind {port}: simulated {measured} cycles, predicted {predicted}");
        Assert.That((double?)predicted, Is.EqualTo(measured).Within(10).Percent, $"cycles of {instruction} behind {port}");
    }

    /// <summary>f32 weights stream through the binary32 dot-product engine (four products a cycle where rows are whole lines): Fp32Dot's bits, and cycles the model predicts within 10 %.</summary>
    [Test]
    public void F32_weights_give_the_binary32_dot_products_bits()
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 5; trial++)
        {
            // even trials: rows of whole lines, which the engine takes four products a cycle
            int k = trial % 2 == 0 ? 4 * r.Next(1, 23) : r.Next(1, 90), n = r.Next(1, 40), m = r.Next(1, 3);
            var w = RandomTensors.RandomFloats(r, (long)n * k, spread: 2);
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            var external = new byte[ExternalBytes];
            Buffer.BlockCopy(x, 0, external, 0, x.Length * 4);
            long weights = 200;
            Buffer.BlockCopy(w, 0, external, (int)weights * 16, w.Length * 4);
            int outputUnit = (int)FpgaMemoryPlan.UnitsOf((long)m * k * 4) + r.Next(3);
            long resultUnit = weights + FpgaMemoryPlan.UnitsOf(w.Length * 4L);
            var program = new[]
            {
                VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, x.Length * 4),
                new Instruction(m == 1 ? Opcode.MatVec : Opcode.MatMat, 0, Units.None, Units.None, (uint)weights, Instruction.Pack16(n, k), Instruction.Pack16(m, k), Instruction.Pack16(0, outputUnit)),
                VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, resultUnit, outputUnit, m * n * 4),
                VerilatedAcceleratorTests.End,
            };
            var port = new MemoryPort(r.Next(0, 20), new[] { 16.0, 7.5, 2.0 }[r.Next(3)]);
            using var rtl = VerilatedAccelerator.Create(Design, ExternalBytes, port);
            rtl.CycleLimit = 2_000_000;
            var (got, run) = Run(rtl, external, program, resultUnit, m * n);
            var (expected, _) = Run(new FunctionalAccelerator(ExternalBytes, Buffers), external, program, resultUnit, m * n);
            for (int i = 0; i < got.Length; i++)
            {
                float dot = Numerics.Fp32Dot.Dot(x.AsSpan(i / n * k, k), w.AsSpan(i % n * k, k));
                Assert.That(BitConverter.SingleToUInt32Bits(expected[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(dot)), "the functional model is Fp32Dot");
                Assert.That(BitConverter.SingleToUInt32Bits(got[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected[i])), $"trial {trial}: output {i}: rtl {got[i]:R}, Fp32Dot {expected[i]:R}");
            }
            long predicted = new PerformanceModel(port, Design.ScaleEntries).Cycles(program[1])!.Value, measured = run.InstructionCycles![1];
            TestContext.Out.WriteLine($"{program[1]} behind {port}: simulated {measured} cycles, predicted {predicted}");
            Assert.That((double)predicted, Is.EqualTo(measured).Within(10).Percent, $"cycles of {program[1]} behind {port}");
        }
    }

    private static (float[] Result, AcceleratorRun Run) Run(IAcceleratorDevice device, byte[] external, Instruction[] program, long resultUnit, int count)
    {
        device.Write(0, external);
        var run = device.Run(program);
        var bytes = new byte[count * 4];
        device.Read(resultUnit * 16, bytes);
        var result = new float[count];
        Buffer.BlockCopy(bytes, 0, result, 0, bytes.Length);
        return (result, run);
    }

    private static IEnumerable<TestCaseData> LutSchemes()
    {
        foreach (var (bits, group, symmetric, scales, ternary) in new[]
        {
            (4, 32, false, DType.F16, false), (4, 12, true, DType.F32, false), (3, 20, false, DType.BF16, false), (3, 0, true, DType.F16, false),
            (2, 16, false, DType.F32, false), (2, 64, true, DType.F16, true),
        })
            yield return new TestCaseData(QuantScheme.Create(bits, group, symmetric, scales, ternary: ternary)).SetArgDisplayNames($"{(ternary ? "ternary" : $"int{bits}")} g{group} {(symmetric ? "sym" : "asym")} {scales}");
    }

    /// <summary>
    /// LUT-mpGEMM (lut.mpgemm): each activation row becomes int8 tables of its runs of four, and the codes look them up
    /// plane by plane; the RTL gives LutMpGemmKernel's bits, over odd K (partial runs and groups), several rows and
    /// blocks, an all-zero row (ts = 0) and exact ties.
    /// </summary>
    [TestCaseSource(nameof(LutSchemes))]
    public void Lut_matvec_equals_the_lut_mpgemm_kernel_bit_for_bit(QuantScheme scheme)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 3; trial++)
        {
            int k = r.Next(1, 150), n = r.Next(1, 40), m = trial == 2 ? r.Next(2, 4) : 1;
            if ((long)m * (k + n) > Buffers.ActivationUnits * 4 - 8) m = 1;
            var matrix = RandomTensors.RandomMatrix(r, scheme, n, k);
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            if (trial == 1) Array.Clear(x, 0, k);
            if (trial == 0)
                for (int i = 0; i < x.Length; i++) x[i] = r.Next(-16, 16) * 0.5f; // sums of halves: many exact ties in the tables
            AssertRtlMatches(r, x, matrix.Pack(), m, k, n, (weights, output) => MatVec(scheme, weights, n, k, m, 0, output) with { Function = (byte)(scheme.Bits | MatrixFormat.Lut) },
                LutMpGemmKernel.Evaluate(x, matrix, m), $"trial {trial}");
        }
    }

    private static IEnumerable<TestCaseData> SparseCases()
    {
        foreach (var (n, m, bits, group, symmetric) in new[]
        {
            (2, 4, 4, 16, false), (4, 8, 8, 32, true), (1, 4, 4, 0, false), (2, 8, 2, 16, true), (8, 16, 4, 32, false), (1, 2, 3, 0, true),
        })
            yield return new TestCaseData(SparseFormat.NOfM(n, m), QuantScheme.Create(bits, group, symmetric, DType.F16)).SetArgDisplayNames($"{n}:{m} int{bits} g{group} {(symmetric ? "sym" : "asym")}");
    }

    /// <summary>
    /// N:M-sparse weights in the IR's own layout (offsets, kept codes, scales, zero points): the RTL reads only kept
    /// codes, selects each one's activation by its offset, and gives the interpreter's integer sums over the pruned
    /// codes bit for bit, in blocks bounded by a 4-line index buffer, in the cycles the model predicts.
    /// </summary>
    [TestCaseSource(nameof(SparseCases))]
    public void Sparse_matvec_reads_kept_codes_only_and_equals_the_interpreter_bit_for_bit(SparseFormat format, QuantScheme scheme)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 3; trial++)
        {
            int k, n = r.Next(1, 30), m = trial == 2 ? 2 : 1;
            // K in whole M-windows (and groups), a row's kept codes whole bytes
            do k = format.M * r.Next(1, 130 / format.M); while (k / format.M * format.N * scheme.Bits % 8 != 0 || (scheme.GroupSize != 0 && k < scheme.GroupSize / 2));
            var sparse = SparseMatrix.FromQuantized(format, RandomTensors.RandomMask(r, format, n, k), RandomTensors.RandomMatrix(r, scheme, n, k));
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            AssertRtlMatches(r, x, sparse.Pack(), m, k, n, (weights, output) => new Instruction(m == 1 ? Opcode.MatVec : Opcode.MatMat, (byte)(scheme.Bits | MatrixFormat.Sparse),
                    Units.None, Units.None, (uint)weights, Instruction.Pack16(n, k), Instruction.Pack16(m, scheme.GroupSize == 0 ? k : scheme.GroupSize), Instruction.Pack16(0, output),
                    (byte)(MatrixLayout.Of(scheme) | MatrixLayout.Pattern(format.N, format.M)!.Value)),
                QMatMulKernel.IntegerGroupAccumulate(x, sparse.Quantized!, m, 8), $"trial {trial}, {format}");
        }
    }

    // Room for a block row's scales.
    private static readonly AcceleratorRtl BlockDesign = new(Buffers, 64, ScaleEntries: 64, IndexLines: 4);

    private static IEnumerable<TestCaseData> BlockCases()
    {
        foreach (var (rows, cols, bits, group, symmetric) in new[]
        {
            (4, 32, 4, 32, false), (2, 16, 8, 64, true), (8, 64, 2, 16, false), (1, 128, 3, 0, true), (16, 32, 4, 0, false), (2, 32, 4, 128, true),
        })
            yield return new TestCaseData(SparseFormat.Block(rows, cols), QuantScheme.Create(bits, group, symmetric, DType.F16)).SetArgDisplayNames($"{rows}x{cols} int{bits} g{group} {(symmetric ? "sym" : "asym")}");
    }

    /// <summary>
    /// Block-sparse weights in the IR's own layout (block mask, the kept blocks' codes, the dense grid's scales and zero
    /// points): the RTL reads only kept blocks, skips pruned ones, and gives the interpreter's integer sums over the
    /// pruned codes bit for bit — groups inside a block, across blocks (partly kept) and per row, a partial last block
    /// row, and an empty block row, whose outputs are +0 — in the cycles the model predicts from the mask.
    /// </summary>
    [TestCaseSource(nameof(BlockCases))]
    public void Block_sparse_matvec_reads_kept_blocks_only_and_equals_the_interpreter_bit_for_bit(SparseFormat format, QuantScheme scheme)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 3; trial++)
        {
            int k, n, m = trial == 2 ? 2 : 1;
            do
            {
                k = format.BlockCols * r.Next(1, 256 / format.BlockCols + 1);
                n = r.Next(1, 3 * format.BlockRows + 2);
            }
            while (MatrixLayout.BlockRowsProblem(format.BlockRows, format.BlockCols, n, k, scheme.GroupLength(k), scheme.Bits, BlockDesign.ScaleEntries, BlockDesign.IndexLines) is not null
                || (long)m * (k + n) > Buffers.ActivationUnits * 4 - 8);
            var kept = RandomTensors.RandomMask(r, format, n, k);
            if (trial == 0) Array.Clear(kept, 0, Math.Min(n, format.BlockRows) * k);  // an empty block row
            var sparse = SparseMatrix.FromQuantized(format, kept, RandomTensors.RandomMatrix(r, scheme, n, k));
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            var (formatBits, layoutBits) = MatrixLayout.BlockShape(format.BlockRows, format.BlockCols)!.Value;
            AssertRtlMatches(r, x, sparse.Pack(), m, k, n, (weights, output) => new Instruction(m == 1 ? Opcode.MatVec : Opcode.MatMat, (byte)(scheme.Bits | formatBits),
                    Units.None, Units.None, (uint)weights, Instruction.Pack16(n, k), Instruction.Pack16(m, scheme.GroupSize == 0 ? k : scheme.GroupSize), Instruction.Pack16(0, output),
                    (byte)(MatrixLayout.Of(scheme) | layoutBits)),
                QMatMulKernel.IntegerGroupAccumulate(x, sparse.Quantized!, m, 8), $"trial {trial}, {format} [{n}x{k}]", BlockDesign);
        }
    }

    [Test]
    public void Formats_the_engine_does_not_execute_and_oversized_rows_are_named()
    {
        using var rtl = VerilatedAccelerator.Create(Design, ExternalBytes);
        // 2:4 in groups of 6 columns: a group splits an M-window
        var split = new Instruction(Opcode.MatVec, MatrixFormat.Sparse | 4, Units.None, Units.None, 100, Instruction.Pack16(4, 24), Instruction.Pack16(1, 6), Instruction.Pack16(0, 8),
            MatrixLayout.Pattern(2, 4)!.Value);
        Assert.That(() => rtl.Run([split, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 0 (MatVec").And.Message.Contain("not executed by the accelerator RTL"));
        Assert.That(() => new FunctionalAccelerator(ExternalBytes, Buffers).Run([split, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 0").And.Message.Contain("2:4 sparsity over K = 24 in groups of 6"));
        // 1:2 with 3-bit codes over 20 columns: 10 kept codes are 30 bits, not whole bytes
        var ragged = new Instruction(Opcode.MatVec, MatrixFormat.Sparse | 3, Units.None, Units.None, 100, Instruction.Pack16(4, 20), Instruction.Pack16(1, 20), Instruction.Pack16(0, 8), 0);
        Assert.That(() => rtl.Run([ragged, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("not executed by the accelerator RTL"));
        // 8:16 of 272 columns: 136 offsets of 4 bits are 68 bytes a row, beyond the 4-line (64-byte) index buffer
        var wide = new Instruction(Opcode.MatVec, MatrixFormat.Sparse | 8, Units.None, Units.None, 100, Instruction.Pack16(1, 272), Instruction.Pack16(1, 272), Instruction.Pack16(0, 80),
            MatrixLayout.Pattern(8, 16)!.Value);
        Assert.That(() => rtl.Run([wide, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("index buffer"));
        // 4x32 blocks of 3-bit codes: a block's row is 96 bits, not whole lines
        var (blockFormat, blockLayout) = MatrixLayout.BlockShape(4, 32)!.Value;
        var ragBlocks = new Instruction(Opcode.MatVec, (byte)(blockFormat | 3), Units.None, Units.None, 100, Instruction.Pack16(8, 64), Instruction.Pack16(1, 64), Instruction.Pack16(0, 20), blockLayout);
        Assert.That(() => rtl.Run([ragBlocks, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("not executed by the accelerator RTL"));
        Assert.That(() => new FunctionalAccelerator(ExternalBytes, Buffers).Run([ragBlocks, VerilatedAcceleratorTests.End]),
            Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 0").And.Message.Contain("4x32 block sparsity").And.Message.Contain("not whole 16-byte lines"));
        // 8x32 blocks in groups of 16 over 64 columns: a block row's 8 × 4 scales exceed the 24-entry scale buffer
        var (wideFormat, wideLayout) = MatrixLayout.BlockShape(8, 32)!.Value;
        var bigBlocks = new Instruction(Opcode.MatVec, (byte)(wideFormat | 4), Units.None, Units.None, 100, Instruction.Pack16(8, 64), Instruction.Pack16(1, 16), Instruction.Pack16(0, 20), wideLayout);
        Assert.That(() => rtl.Run([bigBlocks, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("larger than the matrix engine's code, scale or index buffer"));
        var manyGroups = MatVec(QuantScheme.Create(4, 2, true, DType.F32), 100, 4, 60, 1, 0, 20);
        Assert.That(() => rtl.Run([manyGroups, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("larger than the matrix engine's code, scale or index buffer"));
    }
}
