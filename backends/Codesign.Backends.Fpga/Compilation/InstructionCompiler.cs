using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Rtl;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using Codesign.IR.Values;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// Maps one forward step of a causal LM graph onto an instruction program: <c>tokens</c> new tokens (1 in decode,
/// up to the plan's chunk in a prefill chunk) attending to a context of up to <paramref name="maxContext"/> tokens.
/// Every field that depends on the actual lengths is written for the maximum and recorded as a
/// <see cref="PatchPoint"/>, so one program serves every length up to it (length-adaptive compilation). Attention
/// walks the KV cache in tiles of <paramref name="kvTile"/> tokens with an online softmax, so its on-chip scratch
/// does not grow with the context; tiles past the actual context get length 0.
/// </summary>
public sealed class InstructionCompiler
{
    private readonly FpgaMemoryPlan _plan;
    private readonly bool _decode;
    private readonly int _maxContext;
    private readonly int _kvTile;
    private readonly List<Instruction> _instructions = [];

    /// <summary>The activation whose one row the cores' banks hold (decode: the last core matrix instruction's input), or null.</summary>
    private Value? _coresHold;
    private readonly List<PatchPoint> _patches = [];

    private InstructionCompiler(FpgaMemoryPlan plan, bool decode, int maxContext, int kvTile)
    {
        _plan = plan;
        _decode = decode;
        _maxContext = maxContext;
        _kvTile = kvTile;
    }

    /// <param name="decode">One new token (MatVec) rather than a chunk of up to the plan's chunk tokens (MatMat).</param>
    public static InstructionProgram Compile(Graph graph, FpgaMemoryPlan plan, bool decode, int maxContext, int kvTile = 16)
    {
        if (maxContext < 1 || maxContext > plan.MaxContext)
            throw new CodesignException($"fpga: a program for contexts up to {maxContext}; the plan holds 1 to {plan.MaxContext}");
        if (kvTile is < 1 or > 4096) throw new CodesignException($"fpga: KV tile of {kvTile} tokens");
        var compiler = new InstructionCompiler(plan, decode, maxContext, kvTile);
        long activationUnits = OnChipBuffers.ActivationUnitsFor(graph, plan, compiler.MaxTokens, kvTile);
        if (activationUnits > ushort.MaxValue)
            throw new CodesignException($"fpga: activations and attention's scores (a {kvTile}-token tile on the binary32 engine, whole rows of a token on the matrix cores) need {activationUnits * FpgaMemoryPlan.Unit} bytes on chip; the buffer addresses {(ushort.MaxValue + 1L) * FpgaMemoryPlan.Unit}");
        foreach (var input in graph.Inputs) compiler.LoadInput(input);
        foreach (var node in graph.Nodes) compiler.Lower(node);
        foreach (var output in graph.Outputs) compiler.StoreOutput(output);
        compiler.Emit(new Instruction(Opcode.End, 0, Units.All, Units.None, 0, 0, 0, 0));
        return new InstructionProgram(compiler._instructions, PatchPoint.Compress(compiler._patches));
    }

    private int MaxTokens => _decode ? 1 : _plan.ChunkTokens;

    private int Emit(Instruction instruction)
    {
        _instructions.Add(instruction);
        return _instructions.Count - 1;
    }

    /// <summary>Records a length-dependent field of the instruction just emitted, and writes its value for the maxima.</summary>
    private void Patch(int index, byte word, byte shift, byte width, int contextScale, int tokenScale, long offset, long max)
    {
        if (_decode && tokenScale != 0)
        {
            offset += tokenScale; // one token, always
            tokenScale = 0;
        }
        var p = new PatchPoint(index, word, shift, width, contextScale, tokenScale, offset, max);
        _instructions[index] = p.Apply(_instructions[index], MaxTokens, _maxContext);
        if (contextScale != 0 || tokenScale != 0) _patches.Add(p);
    }

    private int Chip(Value v) => _plan.OnChip[v];
    private static int RowElements(Value v) => checked((int)FpgaMemoryPlan.PerTokenElements(v));

    /// <summary>The host writes a step's inputs to the I/O region; the program brings them on chip first.</summary>
    private void LoadInput(Value input)
    {
        int i = Emit(new Instruction(Opcode.Load, (byte)OnChipBuffer.Activations, Units.None, Units.Load, (uint)_plan.Io[input], (uint)Chip(input), 0, 0));
        Patch(i, 3, 0, 32, 0, RowElements(input) * 4, 0, uint.MaxValue);
    }

    /// <summary>A load into the parameter buffer at offset 0 (every sfu operation that reads parameters loads them just before).</summary>
    private int LoadParameters(long address, int bytes, int offset = 0) =>
        Emit(new Instruction(Opcode.Load, (byte)OnChipBuffer.Parameters, Units.None, Units.Load, checked((uint)address), (uint)offset, (uint)bytes, 0));

    private void Lower(Node node)
    {
        switch (node.Op)
        {
            case ReshapeOp:
                return; // a view: same place, no data moves
            case EmbeddingOp:
            {
                // f16 and bf16 tables are widened to f32 in the memory image (FpgaMemoryImage.WidenedToF32)
                if (node.Inputs[1].Type.DType is var table && table != DType.F32 && table != DType.F16 && table != DType.BF16)
                    throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: the embedding table is {table}; the accelerator gathers float rows (f32, f16 or bf16)");
                int hidden = RowElements(node.Outputs[0]);
                int i = Emit(new Instruction(Opcode.Gather, 0, Units.None, Units.Load, checked((uint)_plan.External[node.Inputs[1]]), (uint)hidden * 4, 0,
                    Instruction.Pack16(Chip(node.Inputs[0]), Chip(node.Outputs[0]))));
                Patch(i, 3, 0, 32, 0, 1, 0, uint.MaxValue); // rows = tokens
                return;
            }
            case RmsNormOp:
            {
                int hidden = RowElements(node.Outputs[0]);
                LoadParameters(_plan.External[node.Inputs[1]], hidden * 4);
                LoadParameters(_plan.Constants.Scalar(node), FpgaMemoryPlan.Unit, OnChipBuffers.NormEpsOffset(hidden));
                EmitSfu(SfuFunction.RmsNorm, hidden, rowsPerToken: 1, Chip(node.Inputs[0]), 0, Chip(node.Outputs[0]), 0);
                return;
            }
            case RopeOp:
            {
                // The step's tokens sit at positions context − tokens .. context − 1: their rows of the table.
                var (table, rowBytes) = _plan.Constants.RopeTable(node);
                int rowUnits = rowBytes / FpgaMemoryPlan.Unit;
                int load = LoadParameters(table, 0);
                Patch(load, 1, 0, 32, rowUnits, -rowUnits, table, uint.MaxValue);
                Patch(load, 3, 0, 32, 0, rowBytes, 0, uint.MaxValue);
                var shape = node.Outputs[0].Type.Shape;
                int heads = (int)shape[^2].Size;
                EmitSfu(SfuFunction.Rope, (int)shape[^1].Size, rowsPerToken: heads, Chip(node.Inputs[0]), heads, Chip(node.Outputs[0]), 0);
                return;
            }
            case SiluOp:
                EmitSfu(SfuFunction.Silu, RowElements(node.Outputs[0]), 1, Chip(node.Inputs[0]), 0, Chip(node.Outputs[0]), 0);
                return;
            case BinaryElementwiseOp b:
                EmitSfu(b.Mnemonic == "math.add" ? SfuFunction.Add : b.Mnemonic == "math.mul" ? SfuFunction.Multiply
                        : throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: {b.Mnemonic} has no sfu operation"),
                    RowElements(node.Outputs[0]), 1, Chip(node.Inputs[0]), Chip(node.Inputs[1]), Chip(node.Outputs[0]), 0);
                return;
            case MatMulOp or QMatMulOp or SpMatMulOp or LutMatMulOp:
                EmitMatrix(node);
                return;
            case AttentionOp when _plan.Cores.TakesAttention(node):
                _coresHold = null;  // attention quantizes its own rows into the banks
                EmitCoreAttention(node);
                return;
            case AttentionOp attention:
                EmitAttention(node, attention);
                return;
            default:
                throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: {node.Op.Mnemonic} has no accelerator lowering");
        }
    }

    private void EmitSfu(SfuFunction function, int length, int rowsPerToken, int src, int src2, int dst, int param)
    {
        int i = Emit(new Instruction(Opcode.Sfu, (byte)function, Units.Matrix, Units.Sfu, (uint)length, 0, Instruction.Pack16(src, src2), Instruction.Pack16(param, dst)));
        Patch(i, 2, 0, 32, 0, rowsPerToken, 0, uint.MaxValue);
    }

    private void EmitMatrix(Node node)
    {
        var w = node.Inputs[1];
        var shape = w.Type.Shape;
        int n = (int)shape[0].Size, k = (int)shape[1].Size;
        var scheme = w.Type.DType.CodeScheme;
        bool lut = node.Op is LutMatMulOp;
        if (lut && !MatrixFormat.LutReads(scheme!.Bits))
            throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: lut.mpgemm over {scheme.Bits}-bit codes; the LUT engine reads 2-, 3- and 4-bit codes");
        // The DSP chain quantizes each activation row to int8 codes: the graph must say so, or its results differ.
        long actBits = node.Op switch { QMatMulOp q => q.ActBits, SpMatMulOp sp => sp.ActBits, _ => 0 };
        if (scheme is not null && !lut && actBits != 8)
            throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: {node.Op.Mnemonic} over {w.Type.DType} with {(actBits == 0 ? "f32" : $"int{actBits}")} activations; the matrix engine multiplies int8 activation codes (compress with act_bits = 8, or put 2- to 4-bit layers on the LUT engine)");
        byte layout = MatrixLayout.Of(scheme);
        int group = scheme?.GroupLength(k) ?? k;
        byte format = (byte)((scheme?.Bits ?? 0) | (lut ? MatrixFormat.Lut : 0));
        if (w.Type.DType.Sparsity is { } sparsity)
        {
            var (formatBits, layoutBits) = SparseEncoding(node, sparsity, scheme, group, n, k);
            format |= formatBits;
            layout |= layoutBits;
        }
        // a decode step's row already in the cores (q_proj's for k_proj and v_proj, gate_proj's for up_proj) is not quantized again
        bool reuse = _decode && _coresHold == node.Inputs[0];
        if (_plan.Cores.Takes(node)) _coresHold = _decode ? node.Inputs[0] : null;
        int i = _plan.Cores.Takes(node)
            ? Emit(new CoreMatrixOperands((byte)(format | (reuse ? CoreMatrixOperands.ReuseCodes : 0)), layout, _plan.CoreOffsets[w], n, k, 0, Math.Min(group, ushort.MaxValue),
                    Chip(node.Inputs[0]), Chip(node.Outputs[0]))
                .Encode(_decode, Units.Sfu, Units.Matrix))
            : Emit(new Instruction(_decode ? Opcode.MatVec : Opcode.MatMat, format, Units.Sfu, Units.Matrix,
                (uint)_plan.External[w], Instruction.Pack16(n, k), Instruction.Pack16(0, Math.Min(group, ushort.MaxValue)),
                Instruction.Pack16(Chip(node.Inputs[0]), Chip(node.Outputs[0])), layout));
        Patch(i, 3, 16, 16, 0, 1, 0, ushort.MaxValue); // m = tokens
    }

    /// <summary>
    /// The format and layout bits of sparse weights the matrix engine executes, over quantized codes: N:M with a pattern
    /// it encodes (N of 1, 2, 4, 8 in M of 2, 4, 8, 16), each quantization group whole M-windows and each row's kept
    /// codes whole bytes (the engine starts a block of rows on a byte of the stored codes); or R×C blocks with R a power
    /// of two up to 128 and C one of 16, 32, 64, 128, under <see cref="MatrixLayout.BlockRowsProblem"/>'s conditions
    /// for the compiled buffers.
    /// </summary>
    private static (byte Format, byte Layout) SparseEncoding(Node node, SparseFormat sparsity, QuantScheme? scheme, int group, int n, int k)
    {
        string at = $"fpga: node %{node.Outputs[0].Name}: {sparsity} sparse weights";
        if (scheme is null) throw new CodesignException($"{at} of float values; the sparse DSP chain multiplies group-wise quantized codes");
        if (sparsity.Kind == SparseKind.Block)
        {
            if (MatrixLayout.BlockShape(sparsity.BlockRows, sparsity.BlockCols) is not { } shape)
                throw new CodesignException($"{at}; the DSP chain executes blocks of 1 to 128 rows (a power of two) by 16, 32, 64 or 128 columns");
            if (MatrixLayout.BlockRowsProblem(sparsity.BlockRows, sparsity.BlockCols, n, k, group, scheme.Bits, AcceleratorRtl.DefaultScaleEntries, AcceleratorRtl.DefaultIndexLines) is { } blockProblem)
                throw new CodesignException($"{at}: {blockProblem}");
            return shape;
        }
        if (sparsity.Kind != SparseKind.NOfM || MatrixLayout.Pattern(sparsity.N, sparsity.M) is not { } pattern)
            throw new CodesignException($"{at}; the sparse DSP chain executes N:M with N in 1, 2, 4, 8 and M in 2, 4, 8, 16, and blocks");
        if (MatrixLayout.SparseRowsProblem(sparsity.N, sparsity.M, k, group, scheme.Bits) is { } problem)
            throw new CodesignException($"{at}: {problem}");
        return (MatrixFormat.Sparse, pattern);
    }

    /// <summary>
    /// Integer attention on the matrix cores, a kv head a core, in rounds of C kv heads (docs/fpga.md, "Attention on the
    /// matrix cores"): the step's key and value rows are quantized into the cores' caches at position context − tokens,
    /// the values' scales go to system memory and every position's come back on chip; then, for as many tokens as the
    /// scratch holds at a time, the scores of every head, their probabilities on the SFU, and the outputs.
    /// </summary>
    private void EmitCoreAttention(Node node)
    {
        var op = (AttentionOp)node.Op;
        var regions = _plan.CoreKv[(int)op.Layer];
        var qShape = node.Inputs[0].Type.Shape;
        int heads = (int)qShape[^2].Size, headDim = (int)qShape[^1].Size, kvHeads = regions.KvHeads;
        int cores = _plan.Cores.Design.Cores, rounds = regions.Keys.Length, capacity = regions.Layout.Capacity;
        int stride = Math.Min(capacity, CoreAttentionShape.Positions(_maxContext));
        var scratch = OnChipBuffers.CoreScratch(_plan, node, MaxTokens);
        if (scratch.ScoreTokens == 0)
            throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: one token's {heads} score rows of {capacity} positions do not fit the activation buffer after the step's activations");
        Emit(new CoreAttentionShape(capacity, headDim, stride, heads, kvHeads, heads / kvHeads).Checked().Encode());

        // append at context − tokens; the values' scales through system memory, where every position's are kept
        for (int r = 0; r < rounds; r++)
            foreach (bool values in new[] { false, true })
            {
                int a = Emit(CoreAttentionOperands.Append(values, values ? regions.Values[r] : regions.Keys[r], 0, MaxTokens, r * cores, regions.KvHeadsIn(r, cores),
                    Chip(node.Inputs[values ? 2 : 1]), scratch.AppendScales).Encode());
                Patch(a, 2, 16, 16, 1, -1, 0, capacity - 1); // position
                Patch(a, 2, 0, 16, 0, 1, 0, ushort.MaxValue); // tokens
            }
        int rowUnits = regions.KvStride / 4;
        int store = Emit(new Instruction(Opcode.Store, (byte)OnChipBuffer.Activations, Units.Matrix, Units.Store, (uint)regions.ValueScales, (uint)scratch.AppendScales, 0, 0));
        Patch(store, 1, 0, 32, rowUnits, -rowUnits, regions.ValueScales, uint.MaxValue);
        Patch(store, 3, 0, 32, 0, regions.KvStride * 4, 0, uint.MaxValue);
        int load = Emit(new Instruction(Opcode.Load, (byte)OnChipBuffer.Activations, Units.Store, Units.Load, (uint)regions.ValueScales, (uint)scratch.ValueScales, 0, 0));
        Patch(load, 3, 0, 32, regions.KvStride * 4, 0, 0, (long)capacity * regions.KvStride * 4);
        LoadParameters(_plan.Constants.Scalar(node), FpgaMemoryPlan.Unit); // the attention scale

        int group = scratch.ScoreTokens, qUnitsPerToken = heads * headDim / 4;
        for (int t0 = 0; t0 < MaxTokens; t0 += group)
        {
            int input = Chip(node.Inputs[0]) + t0 * qUnitsPerToken, output = Chip(node.Outputs[0]) + t0 * qUnitsPerToken;
            for (int r = 0; r < rounds; r++)
            {
                int s = Emit(CoreAttentionOperands.Scores(regions.Keys[r], 0, 0, r * cores, regions.KvHeadsIn(r, cores), input, scratch.Scores).Encode());
                Patch(s, 2, 16, 16, 1, 0, 0, capacity); // keys = context
                Patch(s, 2, 0, 16, 0, 1, -t0, group); // this group's tokens
            }
            int p = Emit(new AttentionProbabilityOperands(stride, 0, 0, 0, heads, scratch.Scores, scratch.ValueScales, 0, regions.KvStride, heads / kvHeads).Encode(Units.Matrix | Units.Load, Units.Sfu));
            Patch(p, 1, 0, 16, 1, 0, 0, capacity); // keys
            Patch(p, 2, 16, 16, 1, -1, t0 + 1, ushort.MaxValue); // reach: the group's first token's position + 1
            Patch(p, 2, 0, 16, 0, 1, -t0, group); // tokens
            for (int r = 0; r < rounds; r++)
            {
                int v = Emit(CoreAttentionOperands.ValuesOf(regions.Values[r], 0, r * cores, regions.KvHeadsIn(r, cores), scratch.Scores, output).Encode());
                Patch(v, 2, 0, 16, 0, 1, -t0, group);
            }
        }
    }

    private void EmitAttention(Node node, AttentionOp op)
    {
        if (op.KvBits != 0)
            throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: a {op.KvBits}-bit KV cache{(op.KvBits == 8 && op.ActBits == 0 ? " with f32 attention" : "")}; the binary32 engine keeps f32 keys and values, and the matrix cores take 8-bit caches with integer attention (kv_cache.act_bits = 8)");
        var (keys, values, rowBytes) = _plan.Kv[(int)op.Layer];
        int rowUnits = rowBytes / FpgaMemoryPlan.Unit;
        var qShape = node.Inputs[0].Type.Shape;
        int heads = (int)qShape[^2].Size, headDim = (int)qShape[^1].Size;
        int kvHeads = (int)node.Inputs[1].Type.Shape[^2].Size;
        if (heads > byte.MaxValue || (long)MaxTokens * heads > ushort.MaxValue || _kvTile + MaxTokens - 1 > ushort.MaxValue)
            throw new CodesignException($"fpga: node %{node.Outputs[0].Name}: {heads} heads over a chunk of {MaxTokens} tokens; the softmax unit takes up to 255 heads and 65535 rows");

        // The new tokens' keys and values go to rows context − tokens .. context − 1 of the layer's cache.
        foreach (var (value, region) in new[] { (node.Inputs[1], keys), (node.Inputs[2], values) })
        {
            int s = Emit(new Instruction(Opcode.Store, (byte)OnChipBuffer.Activations, Units.Sfu, Units.Store,
                (uint)region, (uint)Chip(value), 0, 0));
            Patch(s, 1, 0, 32, rowUnits, -rowUnits, region, uint.MaxValue);
            Patch(s, 3, 0, 32, 0, rowBytes, 0, uint.MaxValue);
        }
        LoadParameters(_plan.Constants.Scalar(node), FpgaMemoryPlan.Unit); // the scale, for every tile's softmax

        int tiles = (_maxContext + _kvTile - 1) / _kvTile;
        int scores = _plan.OnChipUnits, state = scores + OnChipBuffers.ScoreUnits(MaxTokens * heads, _kvTile), output = Chip(node.Outputs[0]);
        for (int t = 0; t < tiles; t++)
        {
            int chipTile = t % 2 * _kvTile * rowUnits; // double buffer
            long tileBase = (long)t * _kvTile;
            int lk = Emit(new Instruction(Opcode.Load, (byte)OnChipBuffer.Keys, Units.Store, Units.Load, (uint)(keys + tileBase * rowUnits), (uint)chipTile, 0, 0));
            Patch(lk, 3, 0, 32, rowBytes, 0, -tileBase * rowBytes, (long)_kvTile * rowBytes);
            int qk = Emit(new Instruction(Opcode.MatVec, MatrixFormat.AttentionScores, Units.Load, Units.Matrix, Instruction.Pack16(kvHeads, chipTile), Instruction.Pack16(0, headDim),
                Instruction.Pack16(0, heads), Instruction.Pack16(Chip(node.Inputs[0]), scores)));
            Patch(qk, 2, 16, 16, 1, 0, -tileBase, _kvTile); // n = this tile's keys
            Patch(qk, 3, 16, 16, 0, 1, 0, ushort.MaxValue);
            int sm = Emit(new SoftmaxTileOperands(headDim, t == 0, 0, 0, 0, heads, scores, output, 0, state).Encode(Units.Matrix, Units.Sfu));
            Patch(sm, 1, 0, 16, 1, 0, -tileBase, _kvTile); // this tile's keys
            Patch(sm, 2, 16, 16, 1, 0, -tileBase, _kvTile + MaxTokens - 1); // its reach: the causal mask inside the tile
            Patch(sm, 2, 0, 16, 0, 1, 0, ushort.MaxValue); // tokens
            int lv = Emit(new Instruction(Opcode.Load, (byte)OnChipBuffer.Values, Units.Sfu, Units.Load, (uint)(values + tileBase * rowUnits), (uint)chipTile, 0, 0));
            Patch(lv, 3, 0, 32, rowBytes, 0, -tileBase * rowBytes, (long)_kvTile * rowBytes);
            int pv = Emit(new Instruction(Opcode.MatVec, MatrixFormat.AttentionOutput, Units.Load, Units.Matrix, Instruction.Pack16(kvHeads, chipTile), Instruction.Pack16(headDim, 0),
                Instruction.Pack16(0, heads), Instruction.Pack16(scores, output)));
            Patch(pv, 2, 0, 16, 1, 0, -tileBase, _kvTile); // k = this tile's values
            Patch(pv, 3, 16, 16, 0, 1, 0, ushort.MaxValue);
        }
        EmitSfu(SfuFunction.SoftmaxFinish, headDim, heads, output, state, output, 0);
    }

    private void StoreOutput(Value output)
    {
        int i = Emit(new Instruction(Opcode.Store, (byte)OnChipBuffer.Activations, Units.Matrix, Units.Store, (uint)_plan.Io[output], (uint)Chip(output), 0, 0));
        Patch(i, 3, 0, 32, 0, RowElements(output) * 4, 0, uint.MaxValue);
    }

    /// <summary>Whether a patched instruction is a KV tile past the actual context (length 0), which the controller skips.</summary>
    public static bool IsEmptyTile(Instruction i) => i.Op switch
    {
        Opcode.Load => i.C == 0,
        Opcode.MatVec when MatrixFormat.IsAttention(i.Function) && (i.Function & MatrixFormat.AttentionScores) != 0 => i.B >> 16 == 0,
        Opcode.MatVec when MatrixFormat.IsAttention(i.Function) && (i.Function & MatrixFormat.AttentionOutput) != 0 => (i.B & 0xffff) == 0,
        Opcode.Sfu when i.Function == (byte)SfuFunction.SoftmaxTile => (i.A & 0xffff) == 0,
        _ => false,
    };
}
