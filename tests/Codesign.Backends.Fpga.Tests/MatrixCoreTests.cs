using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The matrix cores (hdl-templates/accel_cores.sv.sbn): a group-wise matrix striped by rows across 1, 2 or 4 cores, each
/// streaming its slice from its own channel through AXI4 bursts, gives the interpreter's
/// QMatMulKernel.IntegerGroupAccumulate bit for bit (through the functional model), in the cycles the performance model
/// predicts within 2 %.
/// </summary>
[Category("Verilator")]
public class MatrixCoreTests : RequiresVerilator
{
    // CoreAttentionTests runs its attention steps on these designs too (one Verilator build each): the activation buffer holds their caches' rows.
    internal static readonly OnChipBuffers Buffers = new(6144, 2, 2);
    private const long ExternalBytes = 8_192;
    private const long CoreBytes = 65_536;

    /// <summary>A design whose rings are small (rows stream in many blocks) and whose window rotates by 16 columns; lanes of <paramref name="laneBytes"/> (by default the beat's).</summary>
    internal static AcceleratorRtl Design(int cores, int beat, int? laneBytes = null) =>
        new(Buffers, 64)
        {
            Cores = new MatrixCoreDesign(new AcceleratorShape(cores, beat, laneBytes), 16, (512 + 4 * (laneBytes ?? beat) - 1) / (4 * (laneBytes ?? beat)), 32, 8, 8, 8).Checked(),
            LegacyMatrix = false,
        };

    /// <summary>Beats of 16 to 64 bytes, two designs with lanes narrower than the port (16-byte lane beats behind 32-byte ports), every code width and N:M pattern.</summary>
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (cores, beat, lanes, bits, group, symmetric, scales, ternary, sparse) in new[]
        {
            (2, 16, 16, 4, 32, false, DType.F16, false, 0), (1, 16, 16, 8, 0, true, DType.F32, false, 0), (4, 16, 16, 3, 16, false, DType.BF16, false, 0),
            (2, 64, 64, 2, 48, true, DType.F16, true, 0), (4, 16, 16, 4, 0, false, DType.F16, false, 4), (2, 16, 16, 8, 32, true, DType.F32, false, 8),
            (2, 32, 16, 4, 64, false, DType.F16, false, 4), (4, 32, 16, 2, 16, true, DType.F16, false, 0),
        })
            yield return new TestCaseData(cores, beat, lanes, QuantScheme.Create(bits, group, symmetric, scales, ternary: ternary), sparse)
                .SetArgDisplayNames($"{cores} cores {beat} B{(lanes == beat ? "" : $" {2 * lanes} lanes")} {(ternary ? "ternary" : $"int{bits}")} g{group} {(symmetric ? "sym" : "asym")} {scales}{(sparse == 0 ? "" : $" {sparse / 2}:{sparse}")}");
    }

    [TestCaseSource(nameof(Cases))]
    public void A_striped_matrix_equals_the_interpreter_bit_for_bit_in_the_predicted_cycles(int cores, int beat, int laneBytes, QuantScheme scheme, int sparseM)
    {
        var r = RandomTensors.Fresh();
        var design = Design(cores, beat, laneBytes == beat ? null : laneBytes);
        for (int trial = 0; trial < 3; trial++)
        {
            int k = 16 * r.Next(1, 14), n = r.Next(1, 60), m = trial == 2 ? r.Next(2, 4) : 1;
            if ((long)m * (k + n) > Buffers.ActivationUnits * 4 - 8) m = 1;
            var matrix = RandomTensors.RandomMatrix(r, scheme, n, k);
            var format = sparseM == 0 ? null : SparseFormat.NOfM(sparseM / 2, sparseM);
            var sparse = format is null ? null : SparseMatrix.FromQuantized(format, RandomTensors.RandomMask(r, format, n, k), matrix);
            var type = format is null ? DType.Quantized(scheme) : DType.Sparse(format, DType.Quantized(scheme));
            var packed = sparse?.Pack() ?? matrix.Pack();
            var x = RandomTensors.RandomFloats(r, (long)m * k, spread: r.Next(1, 40));
            if (trial == 1) Array.Clear(x, 0, k);
            var reference = QMatMulKernel.IntegerGroupAccumulate(x, sparse?.Quantized ?? matrix, m, 8);
            long offset = r.Next(0, 256);  // 16-byte units anywhere in a 4 KiB page: slices need not start on a beat, bursts split at the page
            var instruction = new CoreMatrixOperands((byte)(scheme.Bits | (format is null ? 0 : MatrixFormat.Sparse)),
                (byte)(MatrixLayout.Of(scheme) | (format is null ? 0 : MatrixLayout.Pattern(format.N, format.M)!.Value)), offset, n, k, m,
                scheme.GroupSize == 0 ? k : scheme.GroupSize, 0, (int)FpgaMemoryPlan.UnitsOf((long)m * k * 4) + r.Next(3)).Encode(m == 1, Units.None, Units.None);
            AssertCoresMatch(r, design, x, type, packed, n, k, m, instruction, reference, $"trial {trial}: [{m}x{k}]·[{n}x{k}]ᵀ");
        }
    }

    /// <summary>
    /// Bursts never cross a 4 KiB page, so a fetch-bound matrix's cycles depend on where in its page each slice lies, not
    /// only on its alignment within a beat: the same matrix at line 0 and at line 230 of a page (its codes split at the
    /// page 26 beats in) takes different cycles on the RTL, and the performance model predicts each (it once remembered
    /// the first offset's cycles for every offset of the same beat alignment, 385 where the RTL took 366).
    /// </summary>
    [Test]
    public void A_matrix_across_a_4_KiB_page_is_predicted_at_its_own_offset()
    {
        var r = RandomTensors.Fresh();
        var design = Design(2, 16);
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        const int k = 336, n = 18;
        var matrix = RandomTensors.RandomMatrix(r, scheme, n, k);
        var x = RandomTensors.RandomFloats(r, k, spread: 8);
        var reference = QMatMulKernel.IntegerGroupAccumulate(x, matrix, 1, 8);
        long At(long offset) => AssertCoresMatch(r, design, x, DType.Quantized(scheme), matrix.Pack(), n, k, 1,
            new CoreMatrixOperands(4, MatrixLayout.Of(scheme), offset, n, k, 1, 32, 0, k / 4 + 4).Encode(decode: true, Units.None, Units.None),
            reference, $"at line {offset}", new CorePort(40, 16));
        long inPage = At(0), acrossPage = At(230);
        Assert.That(acrossPage, Is.Not.EqualTo(inPage), "the page split changes the RTL's cycles (else this test shows nothing)");
    }

    /// <summary>
    /// Two core instructions back to back, the second with fewer activation rows than the first: each quantizes its own
    /// rows only once every core has read the last (a core's count of rows read starts again at each instruction, so
    /// the quantizer cannot run ahead on the first instruction's count and overwrite codes still unread).
    /// </summary>
    [Test]
    public void Back_to_back_matmats_quantize_each_row_after_every_core_has_read_the_last()
    {
        var r = RandomTensors.Fresh();
        var design = Design(2, 16);
        var scheme = QuantScheme.Create(4, 16, false, DType.F16);
        // a row of 16 is quantized before the cores finish set-up, and 30 rows a core behind a slow port read far slower
        int k = 16, n = 60;
        var first = RandomTensors.RandomMatrix(r, scheme, n, k);
        var second = RandomTensors.RandomMatrix(r, scheme, n, k);
        var x = RandomTensors.RandomFloats(r, 5L * k, spread: 8);
        var type = DType.Quantized(scheme);
        Instruction Mat(long offset, int m, int input, int output) =>
            new CoreMatrixOperands(4, MatrixLayout.Of(scheme), offset, n, k, m, 16, input, output).Encode(decode: false, Units.None, Units.None);
        // x rows 0..2 through the first matrix, rows 3..4 through the second
        var program = new[]
        {
            VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, x.Length * 4),
            Mat(0, 3, 0, 60), Mat(64, 2, 3 * k / 4, 110),
            VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, 64, 60, 3 * n * 4), VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, 120, 110, 2 * n * 4),
            VerilatedAcceleratorTests.End,
        };
        float[] Run(IAcceleratorDevice device)
        {
            var bytes = new byte[x.Length * 4];
            Buffer.BlockCopy(x, 0, bytes, 0, bytes.Length);
            device.Write(0, bytes);
            foreach (var (matrix, offset) in new[] { (first, 0L), (second, 64L) })
                foreach (var (core, slice) in CoreSlices.Striped(type, n, k, matrix.Pack(), 2))
                    device.WriteCore(core, offset * 16, slice);
            device.Run(program);
            var y = new byte[5 * n * 4];
            device.Read(64 * 16, y.AsSpan(0, 3 * n * 4));
            device.Read(120 * 16, y.AsSpan(3 * n * 4));
            var result = new float[5 * n];
            Buffer.BlockCopy(y, 0, result, 0, y.Length);
            return result;
        }
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, MemoryPort.Default, CoreBytes, new CorePort(40, 2));
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, design.Cores, CoreBytes);
        var expected = QMatMulKernel.IntegerGroupAccumulate(x[..(3 * k)], first, 3, 8).Concat(QMatMulKernel.IntegerGroupAccumulate(x[(3 * k)..], second, 2, 8)).ToArray();
        Assert.That(Run(functional).Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToUInt32Bits)));
        Assert.That(Run(rtl).Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToUInt32Bits)));
    }

    /// <summary>
    /// A decode instruction marked <see cref="CoreMatrixOperands.ReuseCodes"/> multiplies the row the last one quantized
    /// (its codes are still in the banks, whatever its input field names: here a different row), in the cycles the
    /// performance model predicts, which skip the quantizer's two passes; the functional model holds that row too.
    /// </summary>
    [Test]
    public void A_reused_row_is_the_last_instructions_codes_without_the_quantizers_passes()
    {
        var r = RandomTensors.Fresh();
        var design = Design(2, 16);
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        // K of 192 or more and few rows a core, so the quantizer's two passes (K/2 + 5 cycles) outlast the set-up, the
        // port's latency and the weights' fetch (n·K/64 at 16 bytes a cycle) and skipping them shows; with more rows the
        // fetch hides the quantizer and a reuse can come out a cycle slower
        int k = 16 * r.Next(12, 24), n = r.Next(2, 20);
        var first = RandomTensors.RandomMatrix(r, scheme, n, k);
        var second = RandomTensors.RandomMatrix(r, scheme, n, k);
        var x = RandomTensors.RandomFloats(r, 2L * k, spread: 8);
        var type = DType.Quantized(scheme);
        int outFirst = k / 2 + 8, outSecond = outFirst + (n + 3) / 4 + 4;
        long secondAt = CoreSlices.Bytes(type, n, k) / 16 + 4;  // past the first's slices
        Instruction Mat(long offset, bool reuse, int input, int output) =>
            new CoreMatrixOperands((byte)(4 | (reuse ? CoreMatrixOperands.ReuseCodes : 0)), MatrixLayout.Of(scheme), offset, n, k, 1, 32, input, output).Encode(decode: true, Units.None, Units.None);
        var program = new[]
        {
            VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, x.Length * 4),
            Mat(0, false, 0, outFirst), Mat(secondAt, true, k / 4, outSecond),
            VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, 200, outFirst, n * 4), VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, 240, outSecond, n * 4),
            VerilatedAcceleratorTests.End,
        };
        float[] Run(IAcceleratorDevice device, out AcceleratorRun run)
        {
            var bytes = new byte[x.Length * 4];
            Buffer.BlockCopy(x, 0, bytes, 0, bytes.Length);
            device.Write(0, bytes);
            foreach (var (matrix, offset) in new[] { (first, 0L), (second, secondAt) })
                foreach (var (core, slice) in CoreSlices.Striped(type, n, k, matrix.Pack(), 2))
                    device.WriteCore(core, offset * 16, slice);
            run = device.Run(program);
            var y = new byte[2 * n * 4];
            device.Read(200 * 16, y.AsSpan(0, n * 4));
            device.Read(240 * 16, y.AsSpan(n * 4));
            var result = new float[2 * n];
            Buffer.BlockCopy(y, 0, result, 0, y.Length);
            return result;
        }
        var corePort = new CorePort(40, 16);
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, MemoryPort.Default, CoreBytes, corePort);
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, design.Cores, CoreBytes);
        // both products are of x's first row: the second instruction's input field names the second row
        var expected = QMatMulKernel.IntegerGroupAccumulate(x[..k], first, 1, 8).Concat(QMatMulKernel.IntegerGroupAccumulate(x[..k], second, 1, 8)).ToArray();
        Assert.That(Run(functional, out _).Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToUInt32Bits)));
        Assert.That(Run(rtl, out var simulated).Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToUInt32Bits)));
        var model = new PerformanceModel(MemoryPort.Default) { Cores = design.Cores, CorePort = corePort };
        long quantized = simulated.InstructionCycles![1], reused = simulated.InstructionCycles[2];
        Assert.That((double?)model.Cycles(program[1]), Is.EqualTo(quantized).Within(2).Percent, "the quantizing instruction");
        Assert.That((double?)model.Cycles(program[2]), Is.EqualTo(reused).Within(2).Percent, "the reusing instruction");
        TestContext.Out.WriteLine($"K = {k}, N = {n}: {quantized} cycles quantizing, {reused} reusing");
        Assert.That(reused, Is.LessThan(quantized), "the reused row skips the quantizer");
    }

    /// <summary>Without a held row (nothing before, or attention since) the functional model refuses a reuse naming it.</summary>
    [Test]
    public void A_reuse_with_no_row_held_is_a_fault_of_the_functional_model()
    {
        var scheme = QuantScheme.Create(4, 32, false, DType.F16);
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, Design(2, 16).Cores, CoreBytes);
        var reuse = new CoreMatrixOperands(4 | CoreMatrixOperands.ReuseCodes, MatrixLayout.Of(scheme), 0, 8, 64, 1, 32, 0, 20).Encode(decode: true, Units.None, Units.None);
        Assert.That(() => functional.Run([reuse, VerilatedAcceleratorTests.End]), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 0").And.Message.Contain("the cores hold none"));
    }

    private static IEnumerable<TestCaseData> Refusals()
    {
        var g32 = QuantScheme.Create(4, 32, false, DType.F16);
        yield return new TestCaseData(new CoreMatrixOperands(4, MatrixLayout.Of(g32), 0, 8, 40, 1, 32, 0, 20), "K = 40", 1).SetArgDisplayNames("K not a multiple of 16");
        yield return new TestCaseData(new CoreMatrixOperands(4, MatrixLayout.Of(g32), 0, 8, 96, 1, 24, 0, 30), "groups of 24", 1).SetArgDisplayNames("groups off the window's banks");
        yield return new TestCaseData(new CoreMatrixOperands(4 | MatrixFormat.Sparse, (byte)(MatrixLayout.Of(g32) | MatrixLayout.Pattern(1, 4)!.Value), 0, 8, 64, 1, 32, 0, 20), "1:4", 1)
            .SetArgDisplayNames("an N:M pattern the sparse MUX does not wire");
        yield return new TestCaseData(new CoreMatrixOperands(5, MatrixLayout.Of(g32), 0, 8, 64, 1, 32, 0, 20), "5-bit", 1).SetArgDisplayNames("5-bit codes");
        yield return new TestCaseData(new CoreMatrixOperands(4 | CoreMatrixOperands.ReuseCodes, MatrixLayout.Of(g32), 0, 8, 64, 2, 32, 0, 40), "reused over m = 2", 1)
            .SetArgDisplayNames("a reused row over two rows");
        yield return new TestCaseData(new CoreMatrixOperands(4, MatrixLayout.Of(g32), 0, 8, 768, 1, 32, 0, 200), "code banks", 7).SetArgDisplayNames("a row longer than the code banks");
        yield return new TestCaseData(new CoreMatrixOperands(4, MatrixLayout.Of(g32), 0, 8, 64, 1, 32, 0, 8), "overlaps", 5).SetArgDisplayNames("the output over the input");
        yield return new TestCaseData(new CoreMatrixOperands(4, MatrixLayout.Of(g32), 0, 64, 64, 1, 32, 0, Buffers.ActivationUnits - 4), "outside", 2).SetArgDisplayNames("the output past the buffer");
    }

    /// <summary>An instruction the cores refuse stops the RTL and the functional model at the same instruction, each naming why.</summary>
    [TestCaseSource(nameof(Refusals))]
    public void A_refused_core_instruction_stops_both_models_at_it(CoreMatrixOperands operands, string reason, int fault)
    {
        var design = Design(2, 16);
        var program = new[] { VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, 64), operands.Encode(decode: true, Units.None, Units.None), VerilatedAcceleratorTests.End };
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, design.Cores, CoreBytes);
        Assert.That(() => functional.Run(program), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 1").And.Message.Contain(reason));
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, MemoryPort.Default, CoreBytes);
        string expected = fault switch { 1 => "not executed by the accelerator RTL", 2 => "outside an on-chip buffer", 5 => "overlaps", _ => "larger than the matrix engine" };
        Assert.That(() => rtl.Run(program), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 1").And.Message.Contain(expected));
    }

    /// <summary>
    /// Runs one core instruction on the RTL and the functional model: the activations at unit 0, each core's slice at the
    /// instruction's offset in its channel, behind <paramref name="port"/> (by default a random core port). Asserts the
    /// functional model gives <paramref name="reference"/>, the RTL the same bits, and the performance model the RTL's
    /// cycles within 2 %; returns the RTL's cycles.
    /// </summary>
    internal static long AssertCoresMatch(Random r, AcceleratorRtl design, float[] x, DType type, byte[] packed, int n, int k, int m, Instruction instruction, float[] reference, string trial, CorePort? port = null)
    {
        var o = CoreMatrixOperands.Of(instruction);
        long resultUnit = 64;
        var program = new[]
        {
            VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, x.Length * 4),
            instruction,
            VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, resultUnit, o.Output, m * n * 4),
            VerilatedAcceleratorTests.End,
        };
        var corePort = port ?? new CorePort(r.Next(0, 40), new[] { design.Cores.BeatBytes, design.Cores.BeatBytes * 0.75, design.Cores.BeatBytes / 3.0 }[r.Next(3)]);
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, MemoryPort.Default, CoreBytes, corePort);
        rtl.CycleLimit = 2_000_000;
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, design.Cores, CoreBytes);
        float[] Run(IAcceleratorDevice device, out AcceleratorRun run)
        {
            var bytes = new byte[x.Length * 4];
            Buffer.BlockCopy(x, 0, bytes, 0, bytes.Length);
            device.Write(0, bytes);
            foreach (var (core, slice) in CoreSlices.Striped(type, n, k, packed, design.Cores.Cores))
                device.WriteCore(core, o.Offset * 16, slice);
            run = device.Run(program);
            var result = new byte[m * n * 4];
            device.Read(resultUnit * 16, result);
            var y = new float[m * n];
            Buffer.BlockCopy(result, 0, y, 0, result.Length);
            return y;
        }
        var expected = Run(functional, out _);
        var got = Run(rtl, out var simulated);
        for (int i = 0; i < reference.Length; i++)
            Assert.That(BitConverter.SingleToUInt32Bits(expected[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(reference[i])), $"the functional model is the interpreter's kernel (output {i})");
        for (int i = 0; i < got.Length; i++)
            Assert.That(BitConverter.SingleToUInt32Bits(got[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected[i])), $"{trial}: output {i}: rtl {got[i]:R}, interpreter {expected[i]:R}");
        long? predicted = new PerformanceModel(MemoryPort.Default) { Cores = design.Cores, CorePort = corePort }.Cycles(instruction);
        long measured = simulated.InstructionCycles![1];
        TestContext.Out.WriteLine($"{instruction} on {design.Cores.Shape} behind {corePort}: simulated {measured} cycles, predicted {predicted}");
        Assert.That((double?)predicted, Is.EqualTo(measured).Within(2).Percent, $"{trial}: cycles of {instruction}");
        return measured;
    }
}
