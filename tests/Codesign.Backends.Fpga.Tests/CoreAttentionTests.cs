using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Numerics;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.IR.Semantics;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// Integer attention on the matrix cores (docs/fpga.md, "Attention on the matrix cores"), one random shape a trial:
/// key and value rows appended to the cores' caches in two steps (a past and the step's tokens), the step's scores, their
/// probabilities on the SFU and the outputs, on the Verilated RTL and the functional model. The caches hold the
/// interpreter's codes and scales (KvLayerCache) bit for bit, the scores and outputs are the interpreter's integer
/// attention (AttentionKernel.RunInteger's steps 1, 2 and 4) bit for bit given the probabilities, the RTL gives the
/// functional model's bits everywhere, and each instruction takes the cycles the performance model predicts within 2 %.
/// </summary>
[Category("Verilator")]
public class CoreAttentionTests : RequiresVerilator
{
    private static readonly OnChipBuffers Buffers = MatrixCoreTests.Buffers;
    private const long ExternalBytes = 1 << 20;
    private const long CoreBytes = 1 << 16;

    private static IEnumerable<TestCaseData> Cases()
    {
        // (4, 32) with 32 lanes: MatrixCoreTests' design of lanes narrower than the port
        foreach (var (cores, beat, lanes) in new[] { (1, 16, 16), (2, 16, 16), (4, 32, 16), (2, 64, 64) })
            yield return new TestCaseData(cores, beat, lanes).SetArgDisplayNames($"{cores} cores of {beat} B{(lanes == beat ? "" : $", {2 * lanes} lanes")}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Attention_on_the_cores_is_the_interpreters_integer_attention_in_the_predicted_cycles(int cores, int beat, int laneBytes)
    {
        var r = RandomTensors.Fresh();
        var design = MatrixCoreTests.Design(cores, beat, laneBytes == beat ? null : laneBytes);
        for (int trial = 0; trial < 2; trial++)
        {
            // drawn again until the step's activations fit the test's activation buffer (a long past with many wide heads does not)
            while (true)
            {
                int headDim = 16 * r.Next(1, 4), kvHeads = r.Next(1, 2 * cores + 2), group = r.Next(1, 4), heads = kvHeads * group;
                int capacity = 64 * r.Next(1, 3), stride = 64 * r.Next(1, capacity / 64 + 1);
                int tokens = r.Next(1, 4), past = trial == 0 ? 0 : r.Next(0, stride - tokens + 1), context = past + tokens;
                var shape = new CoreAttentionShape(capacity, headDim, stride, heads, kvHeads, group).Checked();
                if (new ActivationLayout(shape, context, tokens).Units > Buffers.ActivationUnits) continue;
                Run(r, design, shape, past, tokens, context, $"trial {trial}: {shape}, past {past}, tokens {tokens}");
                break;
            }
        }
    }

    /// <summary>Where the test puts each tensor in the activation buffer, in units: keys and values of every position [context, kv heads, hd], the step's queries [tokens, heads, hd], the values' scales [capacity, kv stride], the scores [tokens, heads, stride], the outputs.</summary>
    private sealed class ActivationLayout
    {
        public readonly int Keys, Values, Queries, ValueScales, Scores, Outputs, Units;

        /// <summary>The units <paramref name="words"/> f32 words take.</summary>
        public static int UnitsOf(long words) => (int)FpgaMemoryPlan.UnitsOf(words * 4);

        public ActivationLayout(CoreAttentionShape shape, int context, int tokens)
        {
            long rows = (long)context * shape.KvHeads * shape.HeadDim;
            Keys = 0;
            Values = Keys + UnitsOf(rows);
            Queries = Values + UnitsOf(rows);
            ValueScales = Queries + UnitsOf((long)tokens * shape.Heads * shape.HeadDim);
            Scores = ValueScales + UnitsOf((long)shape.Capacity * CoreKvRegions.StrideFor(shape.KvHeads));
            Outputs = Scores + UnitsOf((long)tokens * shape.Heads * shape.Stride);
            Units = Outputs + UnitsOf((long)tokens * shape.Heads * shape.HeadDim);
        }
    }

    private static void Run(Random r, AcceleratorRtl design, CoreAttentionShape shape, int past, int tokens, int context, string trial)
    {
        int cores = design.Cores!.Cores, hd = shape.HeadDim, kvh = shape.KvHeads, rounds = (kvh + cores - 1) / cores;
        int kvStride = CoreKvRegions.StrideFor(kvh);
        var layout = new CoreAttentionLayout(shape.Capacity, hd);
        var keys = RandomTensors.RandomFloats(r, (long)context * kvh * hd, spread: r.Next(1, 8));
        var values = RandomTensors.RandomFloats(r, (long)context * kvh * hd, spread: r.Next(1, 8));
        var queries = RandomTensors.RandomFloats(r, (long)tokens * shape.Heads * hd, spread: r.Next(1, 8));
        var placed = new ActivationLayout(shape, context, tokens);
        int kAt = placed.Keys, vAt = placed.Values, qAt = placed.Queries, vsAt = placed.ValueScales, sAt = placed.Scores, oAt = placed.Outputs;
        int rowUnits = kvh * hd / 4;
        const float scale = 0.125f;
        int scoreUnits = ActivationLayout.UnitsOf((long)tokens * shape.Heads * shape.Stride);
        long extParameter = sAt, extScores = extParameter + 1, extProbabilities = extScores + scoreUnits, extOutputs = extProbabilities + scoreUnits;
        // each round's key and value regions, at the same offset in every core's channel
        long Aligned(long bytes) => (FpgaMemoryPlan.UnitsOf(bytes) + 3) / 4 * 4;
        var keyRegions = new long[rounds];
        var valueRegions = new long[rounds];
        long next = r.Next(0, 4) * 4;
        for (int round = 0; round < rounds; round++)
        {
            keyRegions[round] = next;
            next += Aligned(layout.KeyRegionBytes);
            valueRegions[round] = next;
            next += Aligned(layout.ValueRegionBytes);
        }
        int InRound(int round) => Math.Min(cores, kvh - round * cores);

        var program = new List<Instruction>
        {
            VerilatedAcceleratorTests.Load(OnChipBuffer.Activations, 0, 0, (long)(sAt - kAt) * 16),
            VerilatedAcceleratorTests.Load(OnChipBuffer.Parameters, extParameter, 0, 16),
            shape.Encode(),
        };
        foreach (var (from, count) in new[] { (0, past), (past, tokens) })
            for (int round = 0; round < rounds; round++)
                foreach (bool isValues in new[] { false, true })
                    program.Add(CoreAttentionOperands.Append(isValues, isValues ? valueRegions[round] : keyRegions[round], from, count, round * cores, InRound(round),
                        (isValues ? vAt : kAt) + from * rowUnits, vsAt + from * kvStride / 4).Encode());
        for (int round = 0; round < rounds; round++)
            program.Add(CoreAttentionOperands.Scores(keyRegions[round], context, tokens, round * cores, InRound(round), qAt, sAt).Encode());
        program.Add(VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, extScores, sAt, (long)tokens * shape.Heads * shape.Stride * 4));
        program.Add(new AttentionProbabilityOperands(shape.Stride, context, past + 1, tokens, shape.Heads, sAt, vsAt, 0, kvStride, shape.QueryGroup).Encode(Units.None, Units.None));
        program.Add(VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, extProbabilities, sAt, (long)tokens * shape.Heads * shape.Stride * 4));
        for (int round = 0; round < rounds; round++)
            program.Add(CoreAttentionOperands.ValuesOf(valueRegions[round], tokens, round * cores, InRound(round), sAt, oAt).Encode());
        program.Add(VerilatedAcceleratorTests.Store(OnChipBuffer.Activations, extOutputs, oAt, (long)tokens * shape.Heads * hd * 4));
        program.Add(VerilatedAcceleratorTests.End);

        var corePort = new CorePort(r.Next(0, 40), new[] { design.Cores.BeatBytes, design.Cores.BeatBytes * 0.75, design.Cores.BeatBytes / 3.0 }[r.Next(3)]);
        (float[] Scores, float[] Probabilities, float[] Outputs, byte[][] Channels, AcceleratorRun Run) Execute(IAcceleratorDevice device)
        {
            var activations = new float[(sAt - kAt) * 4];
            keys.CopyTo(activations, kAt * 4);
            values.CopyTo(activations, vAt * 4);
            queries.CopyTo(activations, qAt * 4);
            var bytes = new byte[activations.Length * 4];
            Buffer.BlockCopy(activations, 0, bytes, 0, bytes.Length);
            device.Write(0, bytes);
            device.Write(extParameter * 16, BitConverter.GetBytes(scale));
            for (int round = 0; round < rounds; round++)
                for (int g = 0; g < InRound(round); g++)
                    device.WriteCore(g, valueRegions[round] * 16 + layout.ValueScalesAt, layout.ValueRowScales());
            var run = device.Run(program);
            float[] Floats(long unit, long count)
            {
                var b = new byte[count * 4];
                device.Read(unit * 16, b);
                var f = new float[count];
                Buffer.BlockCopy(b, 0, f, 0, b.Length);
                return f;
            }
            var channels = Enumerable.Range(0, cores).Select(c =>
            {
                var b = new byte[next * 16];
                device.ReadCore(c, 0, b);
                return b;
            }).ToArray();
            return (Floats(extScores, (long)tokens * shape.Heads * shape.Stride), Floats(extProbabilities, (long)tokens * shape.Heads * shape.Stride),
                Floats(extOutputs, (long)tokens * shape.Heads * hd), channels, run);
        }
        using var functional = new FunctionalAccelerator(ExternalBytes, Buffers, design.Cores, CoreBytes);
        var expected = Execute(functional);
        using var rtl = VerilatedAccelerator.Create(design, ExternalBytes, MemoryPort.Default, CoreBytes, corePort);
        rtl.CycleLimit = 4_000_000;
        var got = Execute(rtl);

        // the interpreter's cache: codes and scales per (position, kv head)
        var cache = new KvCache();
        cache.Layer(0).Append(keys, values, context, kvh * hd, hd, 8);
        var (keyCodes, keyScales, valueCodes, valueScales) = cache.Layer(0).QuantizedRows();
        for (int position = 0; position < context; position++)
            for (int head = 0; head < kvh; head++)
            {
                var channel = expected.Channels[head % cores];
                long keyRegion = keyRegions[head / cores] * 16, valueRegion = valueRegions[head / cores] * 16;
                int at = (position * kvh + head) * hd;
                for (int d = 0; d < hd; d++)
                {
                    Assert.That(channel[keyRegion + (long)position * hd + d], Is.EqualTo((byte)(keyCodes[at + d] + 128)), $"{trial}: key code {d} of position {position}, kv head {head}");
                    Assert.That(channel[valueRegion + (long)d * shape.Capacity + position], Is.EqualTo((byte)(valueCodes[at + d] + 128)), $"{trial}: value code {d} of position {position}, kv head {head}");
                }
                Assert.That(BitConverter.ToSingle(channel, (int)(keyRegion + layout.KeyScalesAt + position * 4)), Is.EqualTo(keyScales[position * kvh + head]), $"{trial}: key scale");
            }
        // scores: (s_k · s_q) · Σ q·k over the codes, as the interpreter's integer attention
        var qc = new int[hd];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < shape.Heads; h++)
            {
                int row = t * shape.Heads + h, g = h / shape.QueryGroup;
                float sq = ActivationQuantizer.QuantizeRow(queries.AsSpan(row * hd, hd), qc, 8);
                for (int j = 0; j < context; j++)
                {
                    long dot = 0;
                    for (int d = 0; d < hd; d++) dot += qc[d] * keyCodes[(j * kvh + g) * hd + d];
                    Assert.That(BitConverter.SingleToUInt32Bits(expected.Scores[row * shape.Stride + j]), Is.EqualTo(BitConverter.SingleToUInt32Bits(QMatMulKernel.AccumulateGroup(0f, keyScales[j * kvh + g], sq, dot))),
                        $"{trial}: score {j} of row {row}");
                }
                // outputs: (1 · s_p) · Σ p·v over the codes of the probabilities the SFU gave
                var pc = new int[shape.Stride];
                float sp = ActivationQuantizer.QuantizeRow(expected.Probabilities.AsSpan(row * shape.Stride, shape.Stride), pc, 8);
                for (int d = 0; d < hd; d++)
                {
                    long sum = 0;
                    for (int j = 0; j < context; j++) sum += (long)pc[j] * valueCodes[(j * kvh + g) * hd + d];
                    Assert.That(BitConverter.SingleToUInt32Bits(expected.Outputs[row * hd + d]), Is.EqualTo(BitConverter.SingleToUInt32Bits(QMatMulKernel.AccumulateGroup(0f, 1f, sp, sum))), $"{trial}: output {d} of row {row}");
                }
                Assert.That(expected.Probabilities.AsSpan(row * shape.Stride + past + t + 1, shape.Stride - past - t - 1).ToArray(), Is.All.EqualTo(0f), $"{trial}: row {row} past the keys it sees");
            }

        Assert.That(got.Channels.Select(c => c.Select(b => (int)b)), Is.EqualTo(expected.Channels.Select(c => c.Select(b => (int)b))), $"{trial}: the caches in the cores' channels");
        for (int i = 0; i < tokens * shape.Heads; i++)
        {
            var row = Enumerable.Range(i * shape.Stride, context);
            Assert.That(row.Select(j => BitConverter.SingleToUInt32Bits(got.Scores[j])), Is.EqualTo(row.Select(j => BitConverter.SingleToUInt32Bits(expected.Scores[j]))), $"{trial}: scores of row {i}");
        }
        Assert.That(got.Probabilities.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Probabilities.Select(BitConverter.SingleToUInt32Bits)), $"{trial}: probabilities");
        Assert.That(got.Outputs.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.Outputs.Select(BitConverter.SingleToUInt32Bits)), $"{trial}: outputs");

        var model = new PerformanceModel(MemoryPort.Default) { Cores = design.Cores, CorePort = corePort };
        for (int n = 0; n < program.Count; n++)
        {
            var i = program[n];
            if (!CoreAttentionOperands.Is(i) && i.Op != Opcode.CoreAttentionShape && !(i.Op == Opcode.Sfu && i.Function == (byte)SfuFunction.AttentionProbabilities)) continue;
            long? predicted = model.Cycles(i, shape);
            long measured = got.Run.InstructionCycles![n];
            TestContext.Out.WriteLine($"{i}: simulated {measured} cycles, predicted {predicted}");
            Assert.That((double?)predicted, Is.EqualTo(measured).Within(2).Percent, $"{trial}: cycles of instruction {n}, {i}");
        }
    }
}
