using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Compiler.Frontends;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Text;
using Codesign.IR.Weights;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The instruction set's encoding, and tiny-llama-a compiled into length-adaptive programs: a bucket's program
/// patched for a length is the program compiled for exactly that length, with the KV traffic the length implies.
/// </summary>
public class InstructionCompilerTests
{
    private static (Graph Graph, FpgaMemoryPlan Plan) TinyLlama()
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        IWeightStore store = m.Weights;
        var bytes = m.Graph.Weights.ToDictionary(w => w, w => (long)GraphBinding.Weight(w, store).Data.Length);
        return (m.Graph, FpgaMemoryPlan.For(m.Graph, w => bytes[w], maxContext: 512, chunkTokens: 16));
    }

    /// <summary>tiny-llama-a with integer attention over an 8-bit cache (attention on the matrix cores), 2 cores.</summary>
    private static (Graph Graph, FpgaMemoryPlan Plan) TinyLlamaKv8(int maxContext = 512, int chunkTokens = 16)
    {
        using var m = ModelLoader.Load(TestPaths.TinyLlama);
        IWeightStore store = m.Weights;
        foreach (var node in m.Graph.Nodes.Where(n => n.Op is Codesign.IR.Ops.AttentionOp).ToList())
            m.Graph.ReplaceNode(node, ((Codesign.IR.Ops.AttentionOp)node.Op).WithKvBits(8, 8), node.Inputs);
        var bytes = m.Graph.Weights.ToDictionary(w => w, w => (long)GraphBinding.Weight(w, store).Data.Length);
        var cores = CoreAssignment.For(m.Graph, new Codesign.Backends.Fpga.Cores.AcceleratorShape(2, 16), maxContext);
        return (m.Graph, FpgaMemoryPlan.For(m.Graph, w => bytes[w], maxContext, chunkTokens, cores));
    }

    private static Instruction[] NonEmpty(IEnumerable<Instruction> instructions) => [.. instructions.Where(i => !InstructionCompiler.IsEmptyTile(i))];

    [Test]
    public void Instructions_round_trip_through_their_encoding_and_bad_words_are_refused_naming_the_instruction()
    {
        var r = Fresh();
        var instructions = Enumerable.Range(0, 200).Select(_ => (byte)r.Next(256)).Select(f => new Instruction(Opcode.MatMat, f, (Units)r.Next(16), (Units)r.Next(16),
            (uint)r.Next(), (uint)r.Next(), (uint)r.Next(), (uint)r.Next(), (byte)(r.Next(MatrixLayout.All + 1) | ((f & MatrixFormat.Sparse) != 0 ? r.Next(16) << 4 : 0)))).Append(new Instruction(Opcode.Sfu, (byte)SfuFunction.Rope, Units.None, Units.Sfu, 1, 2, 3, 4)).ToArray();
        var bytes = InstructionProgram.Encode(instructions);
        Assert.That(bytes, Has.Length.EqualTo(instructions.Length * 20));
        Assert.That(InstructionProgram.Decode(bytes, "p.bin"), Is.EqualTo(instructions));
        // A softmax tile's header byte is its heads per token, whatever bits they set (7B-shaped models have 32).
        var tiles = new[] { 1, 8, 32, 255 }.Select(heads => new SoftmaxTileOperands(r.Next(1, 1 << 15), r.Next(2) == 0, r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), heads,
            r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16))).ToArray();
        Assert.That(InstructionProgram.Decode(InstructionProgram.Encode([.. tiles.Select(t => t.Encode(Units.Matrix, Units.Sfu))]), "p.bin").Select(SoftmaxTileOperands.Of), Is.EqualTo(tiles));
        Assert.That(() => new SoftmaxTileOperands(64, true, 16, 16, 1, 256, 0, 0, 0, 0).Encode(Units.None, Units.None), Throws.TypeOf<CodesignException>().With.Message.Contain("256 heads"));

        Assert.That(() => InstructionProgram.Decode(bytes.AsSpan(0, 30), "p.bin"), Throws.TypeOf<CodesignException>().With.Message.EqualTo("p.bin: 30 bytes is not a whole number of 20-byte instructions"));
        var bad = (byte[])bytes.Clone();
        bad[20 * 7] = 0x3f;
        Assert.That(() => InstructionProgram.Decode(bad, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.EqualTo("p.bin: fpga isa: instruction 7: unknown opcode 0x3f"));
        bad = (byte[])bytes.Clone();
        bad[20 * 200 + 3] = 1;
        Assert.That(() => InstructionProgram.Decode(bad, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 200: reserved header bits"));
        bad = (byte[])bytes.Clone();
        bad[20 * 3 + 1] = 4; // dense 4-bit weights
        bad[20 * 3 + 3] = 0x40;
        Assert.That(() => InstructionProgram.Decode(bad, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 3: N:M pattern bits 0x40 on dense weights"));
        bad = (byte[])bytes.Clone();
        bad[20 * 200 + 1] = 99;
        Assert.That(() => InstructionProgram.Decode(bad, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 200: unknown sfu function 99"));
        bad = (byte[])bytes.Clone();
        bad[20 * 200 + 1] = 7; // the embedding gather is its own opcode now
        Assert.That(() => InstructionProgram.Decode(bad, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 200: unknown sfu function 7"));
    }

    [Test]
    public void Attention_instructions_on_the_cores_round_trip_through_their_encoding_and_bad_fields_are_refused()
    {
        var r = Fresh();
        var shapes = Enumerable.Range(0, 20).Select(_ => new CoreAttentionShape(r.Next(1, 1024) * 64, r.Next(1, 16) * 16, r.Next(1, 1024) * 64, r.Next(1, 256), r.Next(1, 256), r.Next(1, 256))).ToArray();
        var operands = Enumerable.Range(0, 60).Select(n => (n % 4) switch
        {
            0 => CoreAttentionOperands.Append(false, r.Next(), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), 0),
            1 => CoreAttentionOperands.Append(true, r.Next(), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16)),
            2 => CoreAttentionOperands.Scores(r.Next(), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16)),
            _ => CoreAttentionOperands.ValuesOf(r.Next(), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16)),
        }).ToArray();
        var probabilities = Enumerable.Range(0, 20).Select(_ => new AttentionProbabilityOperands(r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1, 256),
            r.Next(1 << 16), r.Next(1 << 16), r.Next(1 << 16), r.Next(1, 256), r.Next(1, 256))).ToArray();
        var program = shapes.Select(s => s.Encode()).Concat(operands.Select(o => o.Encode())).Concat(probabilities.Select(p => p.Encode(Units.Matrix, Units.Sfu))).ToArray();
        var decoded = InstructionProgram.Decode(InstructionProgram.Encode(program), "p.bin");
        Assert.That(decoded, Is.EqualTo(program));
        Assert.That(decoded.Take(20).Select(CoreAttentionShape.Of), Is.EqualTo(shapes));
        Assert.That(decoded.Skip(20).Take(60).Select(CoreAttentionOperands.Of), Is.EqualTo(operands));
        Assert.That(decoded.Skip(80).Select(AttentionProbabilityOperands.Of), Is.EqualTo(probabilities));

        var bytes = InstructionProgram.Encode(program);
        bytes[20 * 20 + 1] = 2; // an append's function: 0 keys, 1 values
        Assert.That(() => InstructionProgram.Decode(bytes, "p.bin"), Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 20: core append function 2 (0 keys, 1 values)"));
        Assert.That(new CoreAttentionShape(96, 32, 64, 8, 4, 2).Problem(), Does.Contain("a capacity of 96 positions"));
        Assert.That(new CoreAttentionShape(128, 40, 64, 8, 4, 2).Problem(), Does.Contain("a head dim of 40"));
        Assert.That(new CoreAttentionShape(128, 32, 192, 8, 4, 2).Problem(), Does.Contain("score rows of 192 words"));
        Assert.That(new CoreAttentionShape(128, 32, 64, 8, 4, 3).Problem(), Does.Contain("8 query heads as 3 for each of 4 kv heads"));
        Assert.That(new CoreAttentionShape(128, 32, 64, 8, 4, 2).Problem(), Is.Null);
        Assert.That(() => new AttentionProbabilityOperands(64, 1, 1, 1, 256, 0, 0, 0, 4, 2).Encode(Units.None, Units.None), Throws.TypeOf<CodesignException>().With.Message.Contain("256 heads"));
    }

    /// <summary>
    /// Merged runs of patch points write exactly what their single points write, on random points: runs of tile-like
    /// progressions, strays with the same formula between them, and fields of one instruction patched apart.
    /// </summary>
    [Test]
    public void Patch_runs_write_exactly_what_their_single_points_write()
    {
        var r = Fresh();
        for (int trial = 0; trial < 20; trial++)
        {
            var instructions = Enumerable.Range(0, 300).Select(_ => new Instruction(Opcode.Sync, 0, Units.None, Units.None, (uint)r.Next(), (uint)r.Next(), (uint)r.Next(), (uint)r.Next())).ToArray();
            var points = new List<PatchPoint>();
            var fields = new HashSet<(int, byte, byte)>(); // as the compiler's: no field patched twice
            void Add(PatchPoint p)
            {
                if (fields.Add((p.Instruction, p.Word, p.Shift))) points.Add(p);
            }
            for (int run = 0; run < 8; run++)
            {
                int start = r.Next(0, 40), stride = r.Next(1, 8), count = r.Next(1, 30), step = r.Next(-50, 50);
                byte word = (byte)r.Next(1, 5), shift = (byte)(r.Next(2) * 16);
                int contextScale = r.Next(-2, 3), tokenScale = r.Next(-1, 2);
                long offset = r.Next(-100, 1000), max = r.Next(1, ushort.MaxValue);
                for (int t = 0; t < count && start + t * stride < instructions.Length; t++)
                {
                    Add(new PatchPoint(start + t * stride, word, shift, 16, contextScale, tokenScale, offset + t * step, max));
                    if (r.Next(6) == 0) Add(new PatchPoint(r.Next(instructions.Length), word, shift, 16, contextScale, tokenScale, r.Next(1000), max));
                }
            }
            var single = new InstructionProgram(instructions, points);
            var runs = new InstructionProgram(instructions, PatchPoint.Compress(points));
            Assert.That(runs.Patches.Sum(p => p.Repeat), Is.EqualTo(points.Count));
            Assert.That(runs.Patches, Has.Count.LessThan(points.Count));
            for (int lengths = 0; lengths < 5; lengths++)
            {
                int tokens = r.Next(1, 9), context = r.Next(tokens, 600);
                Assert.That(runs.Patched(tokens, context), Is.EqualTo(single.Patched(tokens, context)));
            }
        }
    }

    [Test]
    public void A_bucket_program_patched_for_a_context_is_the_program_compiled_for_exactly_that_context()
    {
        var (graph, plan) = TinyLlama();
        var programs = LengthAdaptivePrograms.Compile(graph, plan);
        Assert.That((programs.Decode.Count, programs.Prefill.Count), Is.EqualTo((32, 4)));
        var r = Fresh();
        foreach (int context in new[] { 1, 16, 17, 511, 512 }.Concat(Enumerable.Range(0, 6).Select(_ => r.Next(1, 513))))
        {
            var exactDecode = InstructionCompiler.Compile(graph, plan, decode: true, context);
            Assert.That(NonEmpty(programs.DecodeStep(context)), Is.EqualTo(NonEmpty(exactDecode.Patched(1, context))), $"decode at context {context}");
            int tokens = Math.Min(context, r.Next(1, 17));
            var exactChunk = InstructionCompiler.Compile(graph, plan, decode: false, context);
            Assert.That(NonEmpty(programs.PrefillChunk(tokens, context)), Is.EqualTo(NonEmpty(exactChunk.Patched(tokens, context))), $"prefill chunk of {tokens} at context {context}");
        }
    }

    [Test]
    public void A_decode_step_stores_its_row_at_the_last_position_and_loads_exactly_the_context_from_the_kv_cache()
    {
        var (graph, plan) = TinyLlama();
        var programs = LengthAdaptivePrograms.Compile(graph, plan);
        var (keys, values, rowBytes) = plan.Kv[2];
        foreach (int context in new[] { 1, 15, 16, 17, 200, 512 })
        {
            var step = programs.DecodeStep(context);
            var store = step.Single(i => i.Op == Opcode.Store && i.A >= keys && i.A < values);
            Assert.That((store.A, store.C), Is.EqualTo(((uint)(keys + (long)(context - 1) * rowBytes / FpgaMemoryPlan.Unit), (uint)rowBytes)), $"context {context}");
            var keyLoads = step.Where(i => i.Op == Opcode.Load && i.Function == (byte)OnChipBuffer.Keys && i.A >= keys && i.A < values && i.C > 0).ToList();
            Assert.That(keyLoads.Sum(i => (long)i.C), Is.EqualTo((long)context * rowBytes), $"context {context}: every cached key once");
            Assert.That(keyLoads, Has.Count.EqualTo((context + 15) / 16));
            Assert.That(step.Where(i => i.Op == Opcode.MatVec && (i.Function & 0x20) != 0).Sum(i => (long)(i.B >> 16)), Is.EqualTo(4L * context), "scores for every key, 4 layers");
        }
        Assert.That(() => programs.DecodeStep(513), Throws.TypeOf<CodesignException>().With.Message.EqualTo("fpga: context 513 is outside 1..512"));
    }

    /// <summary>
    /// With attention on the cores: a decode bucket's program patched for a context is the one compiled for it, and a
    /// step appends its key and value rows at position context − 1 in every round, keeps the values' scales at that
    /// position, brings back every position's, and scores exactly the context (the causal reach of a decode step).
    /// </summary>
    [Test]
    public void With_attention_on_the_cores_a_decode_step_appends_at_the_last_position_and_scores_exactly_the_context()
    {
        var (graph, plan) = TinyLlamaKv8();
        Assert.That(plan.CoreKv.Keys, Is.EquivalentTo(new[] { 0, 1, 2, 3 }));
        Assert.That(plan.Kv, Is.Empty, "no f32 cache in system memory");
        var regions = plan.CoreKv[2];
        Assert.That((regions.Keys.Length, regions.KvStride, regions.Layout.Capacity), Is.EqualTo((2, 4, 512)), "4 kv heads on 2 cores: 2 rounds");
        var programs = LengthAdaptivePrograms.Compile(graph, plan);
        var r = Fresh();
        foreach (int context in new[] { 1, 16, 17, 64, 65, 511, 512 }.Concat(Enumerable.Range(0, 4).Select(_ => r.Next(1, 513))))
        {
            var step = programs.DecodeStep(context);
            Assert.That(step, Is.EqualTo(InstructionCompiler.Compile(graph, plan, decode: true, context).Patched(1, context)), $"decode at context {context}");
            var appends = step.Where(i => i.Op == Opcode.CoreAppend).Select(CoreAttentionOperands.Of).Where(o => o.Offset == regions.Keys[0] || o.Offset == regions.Values[0] || o.Offset == regions.Keys[1] || o.Offset == regions.Values[1]).ToList();
            Assert.That(appends.Select(o => (o.Values, o.Position, o.Tokens, o.FirstKvHead, o.KvHeads)),
                Is.EquivalentTo(new[] { (false, context - 1, 1, 0, 2), (true, context - 1, 1, 0, 2), (false, context - 1, 1, 2, 2), (true, context - 1, 1, 2, 2) }), $"context {context}");
            var store = step.Single(i => i.Op == Opcode.Store && i.A >= regions.ValueScales && i.A < regions.ValueScales + 512);
            Assert.That((store.A, store.C), Is.EqualTo(((uint)(regions.ValueScales + context - 1), 16u)), "a position's 4 scales: one unit");
            var load = step.Single(i => i.Op == Opcode.Load && i.A == regions.ValueScales);
            Assert.That(load.C, Is.EqualTo(context * 16u));
            var scores = step.Where(i => i.Op == Opcode.CoreScores).Select(CoreAttentionOperands.Of).ToList();
            Assert.That(scores, Has.Count.EqualTo(8), "2 rounds, 4 layers");
            Assert.That(scores.Select(o => (o.Keys, o.Tokens)).Distinct(), Is.EqualTo(new[] { (context, 1) }));
            var softmax = step.Where(i => i.Op == Opcode.Sfu && i.Function == (byte)SfuFunction.AttentionProbabilities).Select(AttentionProbabilityOperands.Of).ToList();
            Assert.That(softmax.Select(p => (p.Keys, p.Reach, p.Tokens, p.Stride)).Distinct(), Is.EqualTo(new[] { (context, context, 1, (context + 63) / 64 * 64) }));
        }
    }

    [Test]
    public void Attention_the_accelerator_cannot_run_is_refused_naming_the_node()
    {
        var g = GraphParser.Parse("""
            graph @g {
              %q = input : tensor<[seq, 4, 16], f32>
              %k = input : tensor<[seq, 2, 16], f32>
              %y = nn.attention(%q, %k, %k) {layer = 0, scale = 0.25, kv_bits = 8} : tensor<[seq, 4, 16], f32>
              return %y
            }
            """);
        var plan = FpgaMemoryPlan.For(g, _ => 0, 16, 1);
        Assert.That(() => InstructionCompiler.Compile(g, plan, decode: true, 16), Throws.TypeOf<CodesignException>().With.Message.EqualTo(
            "fpga: node %y: a 8-bit KV cache with f32 attention; the binary32 engine keeps f32 keys and values, and the matrix cores take 8-bit caches with integer attention (kv_cache.act_bits = 8)"));
    }

    [Test]
    public void Length_adaptive_programs_take_far_less_storage_than_one_program_per_length()
    {
        var (graph, plan) = TinyLlama();
        long adaptive = LengthAdaptivePrograms.Compile(graph, plan).Bytes;
        long perLength = LengthAdaptivePrograms.BytesOfOneProgramPerLength(graph, plan);
        TestContext.Out.WriteLine($"tiny-llama-a, contexts up to 512: {perLength} bytes one program per length, {adaptive} bytes in buckets ({(double)perLength / adaptive:F1}x)");
        Assert.That(perLength, Is.GreaterThan(10 * adaptive));
    }

    [Test]
    public void An_op_the_accelerator_cannot_run_is_refused_naming_the_node()
    {
        var g = GraphParser.Parse("""
            graph @g {
              %x = input : tensor<[seq, 4, 8], f32>
              %y = tensor.transpose(%x) {perm = [0, 2, 1]} : tensor<[seq, 8, 4], f32>
              return %y
            }
            """);
        var plan = FpgaMemoryPlan.For(g, _ => 0, 16, 1);
        Assert.That(() => InstructionCompiler.Compile(g, plan, decode: true, 16), Throws.TypeOf<CodesignException>().With.Message.EqualTo("fpga: node %y: tensor.transpose has no accelerator lowering"));
    }

    /// <summary>The matrix engine multiplies int8 activation codes by group-wise codes, N:M-sparse in the patterns it encodes: anything else is refused, not approximated.</summary>
    [TestCase("quant<int4, g32, asym, f16, lsb>", "quant.qmatmul", "", 64, "with f32 activations; the matrix engine multiplies int8 activation codes (compress with act_bits = 8, or put 2- to 4-bit layers on the LUT engine)")]
    [TestCase("quant<int4, g32, asym, f16, lsb>", "quant.qmatmul", "{act_bits = 4}", 64, "with int4 activations")]
    [TestCase("sparse<nm_2_4, f16>", "sparse.spmatmul", "", 64, "2:4 sparse weights of float values; the sparse DSP chain multiplies group-wise quantized codes")]
    [TestCase("sparse<block_4x4, quant<int4, g32, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 64, "block4x4 sparse weights; the DSP chain executes blocks of 1 to 128 rows (a power of two) by 16, 32, 64 or 128 columns")]
    [TestCase("sparse<block_3x32, quant<int4, g32, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 64, "block3x32 sparse weights; the DSP chain executes blocks")]
    [TestCase("sparse<block_4x16, quant<int4, g32, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 64, "a row's 16 4-bit codes of a block are not whole 16-byte lines")]
    [TestCase("sparse<block_4x32, quant<int4, g32, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 80, "K = 80 is not whole 32-column blocks")]
    [TestCase("sparse<block_4x32, quant<int4, g48, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 96, "quantization groups of 48 columns are not a power of two")]
    [TestCase("sparse<block_8x32, quant<int8, g32, sym, f32, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 16384, "exceed")]
    [TestCase("sparse<nm_3_4, quant<int8, g32, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 64, "3:4 sparse weights; the sparse DSP chain executes N:M")]
    [TestCase("sparse<nm_2_8, quant<int4, g12, asym, f16, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 48, "quantization groups of 12 columns split the 8-column windows")]
    [TestCase("sparse<nm_1_4, quant<int3, channel, sym, f32, lsb>>", "sparse.spmatmul", "{act_bits = 8}", 20, "a row's 5 kept 3-bit codes are not whole bytes")]
    public void Matrices_the_engine_does_not_multiply_are_refused_naming_the_node(string dtype, string op, string attributes, int k, string message)
    {
        var g = GraphParser.Parse($$"""
            graph @g {
              %x = input : tensor<[seq, {{k}}], f32>
              %w = weight "w" : tensor<[8, {{k}}], {{dtype}}>
              %y = {{op}}(%x, %w) {{attributes}} : tensor<[seq, 8], f32>
              return %y
            }
            """);
        var plan = FpgaMemoryPlan.For(g, _ => 1024, 16, 1);
        Assert.That(() => InstructionCompiler.Compile(g, plan, decode: true, 16), Throws.TypeOf<CodesignException>().With.Message.StartWith("fpga: node %y: ").And.Message.Contain(message));
    }
}
