using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.Testing;
using static Codesign.Backends.Fpga.Tests.VerilatedAcceleratorTests;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The accelerator RTL's rms_norm, rope and KV-tile attention (scores, online softmax, Σ p·v, finish) against the
/// functional model, whose rms_norm and rope are the interpreter's own kernels: the external memory after a run
/// is equal byte for byte, on odd shapes, grouped kv heads, in-place and separate destinations, values over the
/// whole binary32 range and empty tiles.
/// </summary>
[Category("Verilator")]
public class SpecialFunctionRtlTests : RequiresVerilator
{
    private static readonly OnChipBuffers Buffers = new(256, 80, 24);
    private const long ExternalBytes = 16384;
    private const int ParamExt = 500, OutExt = 700;  // external units of the parameter block and of the stored result

    private static readonly MemoryPort Port = new(5, 16);

    private static VerilatedAccelerator Rtl() => VerilatedAccelerator.Create(Buffers, ExternalBytes, Port);

    private static void Put(byte[] external, long unit, ReadOnlySpan<float> values) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(external.AsSpan((int)(unit * 16)));

    /// <summary>Values of every magnitude a row meets: wide exponents, zeros of both signs, now and then a subnormal.</summary>
    private static float[] WideFloats(Random r, int n) => [.. Enumerable.Range(0, n).Select(_ => r.Next(12) switch
    {
        0 => r.Next(2) == 0 ? 0f : -0f,
        1 => BitConverter.Int32BitsToSingle(r.Next(1, 1 << 23) | (r.Next(2) << 31)),
        _ => (float)((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-40, 40))),
    })];

    private static void AssertSameMemory(IReadOnlyList<Instruction> program, byte[] external)
    {
        var (expected, _) = Execute(new FunctionalAccelerator(ExternalBytes, Buffers), external, program);
        using var rtl = Rtl();
        rtl.CycleLimit = 5_000_000;
        var (got, run) = Execute(rtl, external, program);
        // The performance model predicts these units' cycles exactly.
        var predicted = new PerformanceModel(Port).Predict(program);
        for (int i = 0; i < program.Count; i++)
            Assert.That(predicted.PerInstruction[i], Is.EqualTo(run.InstructionCycles![i]), $"cycles of {program[i]}");
        int first = Enumerable.Range(0, got.Length).FirstOrDefault(i => got[i] != expected[i], -1);
        Assert.That(first, Is.EqualTo(-1), () => $"byte {first} (word {first / 4}) differs: rtl {BitConverter.ToSingle(got, first & ~3):R}, functional {BitConverter.ToSingle(expected, first & ~3):R}; program:\n{string.Join('\n', program)}");
    }

    [Test]
    public void Rms_norm_gives_the_interpreters_bits()
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 12; trial++)
        {
            // odd trials: rows a multiple of 4, scaled a line a cycle; the others any length
            int d = trial % 2 == 1 ? 4 * r.Next(1, 18) : r.Next(1, 70), rows = r.Next(1, 4), words = d * rows;
            var external = new byte[ExternalBytes];
            Put(external, 0, WideFloats(r, words));
            Put(external, ParamExt, RandomTensors.RandomFloats(r, d, spread: 4));
            double eps = new[] { 1e-5, 1e-6, 0.0, r.NextDouble() * 1e-3, Math.Pow(2, -1000) }[r.Next(5)];
            BitConverter.TryWriteBytes(external.AsSpan((ParamExt + OnChipBuffers.NormEpsOffset(d)) * 16), eps);
            int src = r.Next(0, 4), dst = r.Next(2) == 0 ? src : src + (words + 3) / 4 + r.Next(0, 3);
            var program = new List<Instruction>
            {
                Load(OnChipBuffer.Parameters, ParamExt, 0, (OnChipBuffers.NormEpsOffset(d) + 1) * 16),
                Load(OnChipBuffer.Activations, 0, src, words * 4),
                Sfu(SfuFunction.RmsNorm, d, rows, src, 0, dst),
                Store(OnChipBuffer.Activations, OutExt, dst, words * 4),
                End,
            };
            AssertSameMemory(program, external);
        }
    }

    [Test]
    public void Rope_gives_the_interpreters_bits_in_place_and_apart()
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 12; trial++)
        {
            // odd trials: rows a multiple of 8, rotated four pairs a step; the others one pair a step (the first an odd row)
            int d = trial % 2 == 1 ? 8 * r.Next(1, 4) : 2 * r.Next(1, 12) + (trial == 0 ? 1 : 0), heads = r.Next(1, 4), tokens = r.Next(1, 3), rows = heads * tokens, words = rows * d;
            var external = new byte[ExternalBytes];
            Put(external, 0, WideFloats(r, words));
            var angles = Enumerable.Range(0, tokens * d).Select(_ => r.NextDouble() * 20).ToArray();
            Put(external, ParamExt, angles.Select((a, i) => (float)(i % d < d / 2 ? Math.Cos(a) : Math.Sin(a))).ToArray());
            int src = r.Next(0, 4), dst = r.Next(2) == 0 ? src : src + (words + 3) / 4;
            var program = new List<Instruction>
            {
                Load(OnChipBuffer.Parameters, ParamExt, 0, tokens * d * 4),
                Load(OnChipBuffer.Activations, 0, src, words * 4),
                Load(OnChipBuffer.Activations, 0, dst, words * 4),  // an odd row's last element keeps what was there
                Sfu(SfuFunction.Rope, d, rows, src, heads, dst),
                Store(OnChipBuffer.Activations, OutExt, dst, words * 4),
                End,
            };
            AssertSameMemory(program, external);
        }
    }

    /// <summary>
    /// A step's attention as the compiler emits it, for one token (decode) or a chunk of tokens with the causal mask
    /// inside the tiles (prefill): per KV tile the scores, the tile's softmax and Σ p·v, then the finish.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void Attention_over_kv_tiles_gives_the_functional_models_bits(bool chunk)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 8; trial++)
        {
            // even trials: head dims of whole lines, whose scores the engine takes four products a cycle
            int kvHeads = r.Next(1, 3), heads = kvHeads * r.Next(1, 4), headDim = trial % 2 == 0 ? 4 * r.Next(1, 3) : r.Next(1, 12), tile = r.Next(1, 7);
            int tokens = chunk ? r.Next(2, 4) : 1, context = r.Next(tokens, 3 * tile + 1), rows = tokens * heads;
            int row = kvHeads * headDim, rowUnits = (row * 4 + 15) / 16;
            var external = new byte[ExternalBytes];
            // q at unit 0; keys, then values, rows of rowUnits units after it; the scale in the parameter block.
            Put(external, 0, RandomTensors.RandomFloats(r, rows * headDim, spread: 4));
            int keysExt = (rows * headDim + 3) / 4 + 1, valuesExt = keysExt + context * rowUnits;
            for (int t = 0; t < context; t++)
            {
                Put(external, keysExt + t * rowUnits, RandomTensors.RandomFloats(r, row, spread: 4));
                Put(external, valuesExt + t * rowUnits, RandomTensors.RandomFloats(r, row, spread: 4));
            }
            Put(external, ParamExt, [1f / MathF.Sqrt(headDim)]);
            int q = 0, scores = (rows * headDim + 3) / 4 + 1, state = scores + (rows * tile + 3) / 4, output = state + (2 * rows + 3) / 4;
            int final = r.Next(2) == 0 ? output : output + (rows * headDim + 3) / 4;
            var program = new List<Instruction>
            {
                Load(OnChipBuffer.Activations, 0, q, rows * headDim * 4),
                Load(OnChipBuffer.Parameters, ParamExt, 0, 16),
            };
            int tiles = (context + tile - 1) / tile + r.Next(0, 2);  // now and then a tile past the context
            for (int t = 0; t < tiles; t++)
            {
                int inTile = Math.Clamp(context - t * tile, 0, tile), reach = Math.Clamp(context - t * tile, 0, tile + tokens - 1), chip = t % 2 * tile * rowUnits;
                program.Add(Load(OnChipBuffer.Keys, keysExt + t * tile * rowUnits, chip, inTile * rowUnits * 16));
                program.Add(new Instruction(Opcode.MatVec, MatrixFormat.AttentionScores, Units.None, Units.None, Instruction.Pack16(kvHeads, chip),
                    Instruction.Pack16(inTile, headDim), Instruction.Pack16(tokens, heads), Instruction.Pack16(q, scores)));
                program.Add(new SoftmaxTileOperands(headDim, t == 0, inTile, reach, tokens, heads, scores, output, 0, state).Encode(Units.None, Units.None));
                program.Add(Load(OnChipBuffer.Values, valuesExt + t * tile * rowUnits, chip, inTile * rowUnits * 16));
                program.Add(new Instruction(Opcode.MatVec, MatrixFormat.AttentionOutput, Units.None, Units.None, Instruction.Pack16(kvHeads, chip),
                    Instruction.Pack16(headDim, inTile), Instruction.Pack16(tokens, heads), Instruction.Pack16(scores, output)));
            }
            program.Add(Sfu(SfuFunction.SoftmaxFinish, headDim, rows, output, state, final));
            program.Add(Store(OnChipBuffer.Activations, OutExt, 0, Buffers.ActivationUnits * 16));
            program.Add(End);
            AssertSameMemory(program, external);
        }
    }

    private static IEnumerable<TestCaseData> Faults()
    {
        yield return new TestCaseData(new[] { Sfu(SfuFunction.Rope, 8, 2, 0, 1, 1), End }, "overlaps").SetName("A rope destination overlapping its source elsewhere faults");
        yield return new TestCaseData(new[] { Sfu(SfuFunction.Rope, 8, 3, 0, 2, 10), End }, "").SetName("Rope rows that are not whole tokens fault");
        yield return new TestCaseData(new[] { Sfu(SfuFunction.RmsNorm, 8, 1, 0, 0, 1), End }, "overlaps").SetName("An rms_norm destination overlapping its source elsewhere faults");
        yield return new TestCaseData(new[] { Sfu(SfuFunction.RmsNorm, 8, 1, 0, 0, 0), End }, "").SetName("An rms_norm eps of zero bits is valid, a negative one faults");
        yield return new TestCaseData(new[] { Sfu(SfuFunction.SoftmaxFinish, 8, 1, 0, 10, 1), End }, "overlaps").SetName("A softmax finish overlapping its source elsewhere faults");
        yield return new TestCaseData(new[] { new Instruction(Opcode.MatVec, MatrixFormat.AttentionScores, Units.None, Units.None, Instruction.Pack16(2, 0), Instruction.Pack16(2, 4), Instruction.Pack16(1, 3), Instruction.Pack16(0, 8)), End }, "")
            .SetName("Heads that are not a multiple of the kv heads fault");
        yield return new TestCaseData(new[] { new Instruction(Opcode.MatVec, MatrixFormat.AttentionScores, Units.None, Units.None, Instruction.Pack16(1, 78), Instruction.Pack16(4, 8), Instruction.Pack16(1, 1), Instruction.Pack16(0, 8)), End }, "outside")
            .SetName("A key tile past the end of the key buffer faults");
        yield return new TestCaseData(new[] { new Instruction(Opcode.Sfu, 7, Units.None, Units.None, 4, 1, 0, 0), End }, "").SetName("An unknown sfu function faults");
    }

    [TestCaseSource(nameof(Faults))]
    public void A_fault_stops_both_devices_at_the_same_instruction(Instruction[] program, string reason)
    {
        var external = new byte[ExternalBytes];
        // rms_norm in place: an eps of zero bits is valid; then a negative eps where it looks for it.
        if (program[0].Op == Opcode.Sfu && program[0].Function == (byte)SfuFunction.RmsNorm && program[0].D == 0)
        {
            program = [Load(OnChipBuffer.Parameters, ParamExt, 0, 48), program[0], End];
            Assert.That(() => Execute(new FunctionalAccelerator(ExternalBytes, Buffers), external, program), Throws.Nothing);
            using var ok = Rtl();
            Assert.That(() => Execute(ok, external, program), Throws.Nothing);
            BitConverter.TryWriteBytes(external.AsSpan((ParamExt + OnChipBuffers.NormEpsOffset(8)) * 16), -1e-5);
        }
        int index = program.Length - 2;
        Assert.That(() => Execute(new FunctionalAccelerator(ExternalBytes, Buffers), external, program),
            Throws.TypeOf<CodesignException>().With.Message.Contain($"instruction {index}").And.Message.Contain(reason));
        using var rtl = Rtl();
        rtl.CycleLimit = 100_000;
        Assert.That(() => Execute(rtl, external, program), Throws.TypeOf<CodesignException>().With.Message.Contain($"instruction {index}").And.Message.Contain(reason));
    }
}
