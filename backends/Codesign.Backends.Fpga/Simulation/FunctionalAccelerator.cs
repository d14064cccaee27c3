using System.Runtime.InteropServices;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Numerics;
using Codesign.IR.Diagnostics;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Sparsity;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The accelerator at the level of its instruction set: executes a program on external memory and the on-chip
/// buffers, one instruction after another, with the arithmetic of the hardware's units — the integer matrix engine
/// and its dequantization (<see cref="QMatMulKernel.IntegerGroupAccumulate"/>, which the chain and group_dequant
/// match bit for bit), <see cref="Fp32Dot"/> for attention and f32 weights, <see cref="SfuArithmetic"/> for the
/// special-function unit. It is the golden model of the whole-accelerator RTL and the reference the performance
/// model's cycle counts are checked on. An access outside a memory is a fault naming the instruction.
/// </summary>
public sealed class FunctionalAccelerator : IAcceleratorDevice
{
    private readonly byte[] _external;
    private readonly byte[] _activations;
    private readonly byte[] _keys;
    private readonly byte[] _values;
    private readonly byte[] _parameters;
    private readonly byte[][] _channels;
    private readonly MatrixCoreDesign? _cores;
    private CoreAttentionShape? _attention;

    /// <summary>The activation row the cores' banks hold after a core matrix instruction of one row (its codes are this row's, quantized), or null.</summary>
    private float[]? _heldRow;
    private int _index;
    private Instruction _current;
    private bool _running;

    /// <param name="cores">The matrix cores' design (their rules and buffers), with a channel of <paramref name="coreBytes"/> each; none without.</param>
    public FunctionalAccelerator(long externalBytes, OnChipBuffers buffers, MatrixCoreDesign? cores = null, long coreBytes = 0)
    {
        if (externalBytes < 0 || externalBytes > Array.MaxLength)
            throw new CodesignException($"fpga-sim: {externalBytes} bytes of external memory do not fit the functional model");
        if (coreBytes < 0 || coreBytes > Array.MaxLength)
            throw new CodesignException($"fpga-sim: {coreBytes} bytes of a core's channel do not fit the functional model");
        _cores = cores;
        _channels = [.. Enumerable.Range(0, cores?.Cores ?? 0).Select(_ => new byte[coreBytes])];
        CoreBytes = coreBytes;
        _external = new byte[externalBytes];
        _activations = new byte[(long)buffers.ActivationUnits * FpgaMemoryPlan.Unit];
        _keys = new byte[(long)buffers.KvUnits * FpgaMemoryPlan.Unit];
        _values = new byte[(long)buffers.KvUnits * FpgaMemoryPlan.Unit];
        _parameters = new byte[(long)buffers.ParameterUnits * FpgaMemoryPlan.Unit];
    }

    public long ExternalBytes => _external.Length;

    public void Write(long address, ReadOnlySpan<byte> data) => data.CopyTo(Slice(_external, "external memory", address, data.Length));

    public void Read(long address, Span<byte> data) => Slice(_external, "external memory", address, data.Length).CopyTo(data);

    public int Cores => _channels.Length;
    public long CoreBytes { get; }

    public void WriteCore(int core, long address, ReadOnlySpan<byte> data) => data.CopyTo(Slice(Channel(core), $"core {core}'s channel", address, data.Length));

    public void ReadCore(int core, long address, Span<byte> data) => Slice(Channel(core), $"core {core}'s channel", address, data.Length).CopyTo(data);

    private byte[] Channel(int core) => core >= 0 && core < _channels.Length ? _channels[core]
        : throw new CodesignException($"fpga-sim: core {core}; the accelerator has {_channels.Length}");

    public void Dispose() { }

    public AcceleratorRun Run(IReadOnlyList<Instruction> program)
    {
        _running = true;
        try
        {
            for (_index = 0; ; _index++)
            {
                if (_index == program.Count) throw new CodesignException($"fpga-sim: instruction {_index}: the program of {program.Count} instructions has no END");
                _current = program[_index];
                if (_current.Op == Opcode.End) break;
                if (InstructionCompiler.IsEmptyTile(_current)) continue;
                Execute(_current);
            }
        }
        finally
        {
            _running = false;
        }
        return new AcceleratorRun(AcceleratorRun.Count(program), 0);
    }

    private CodesignException Fault(string message) => new($"fpga-sim: instruction {_index} ({_current}): {message}");

    private Span<byte> Slice(byte[] memory, string name, long address, long bytes)
    {
        if (address < 0 || bytes < 0 || address + bytes > memory.Length)
            throw _running
                ? Fault($"{bytes} bytes at byte {address} are outside the {memory.Length}-byte {name}")
                : new CodesignException($"fpga-sim: {bytes} bytes at byte {address} are outside the {memory.Length}-byte {name}");
        return memory.AsSpan((int)address, (int)bytes);
    }

    private Span<float> Floats(byte[] memory, string name, long unit, long count) =>
        MemoryMarshal.Cast<byte, float>(Slice(memory, name, unit * FpgaMemoryPlan.Unit, count * 4));

    private Span<float> Act(long unit, long count) => Floats(_activations, "activation buffer", unit, count);

    private byte[] Buffer(byte function, out string name)
    {
        (var buffer, name) = (OnChipBuffer)function switch
        {
            OnChipBuffer.Activations => (_activations, "activation buffer"),
            OnChipBuffer.Keys => (_keys, "key buffer"),
            OnChipBuffer.Values => (_values, "value buffer"),
            OnChipBuffer.Parameters => (_parameters, "parameter buffer"),
            var b => throw Fault($"the accelerator has no {b} buffer"),
        };
        return buffer;
    }

    private static int Hi(uint word) => (int)(word >> 16);
    private static int Lo(uint word) => (int)(word & 0xffff);

    private void Execute(Instruction i)
    {
        switch (i.Op)
        {
            case Opcode.Load:
            {
                var buffer = Buffer(i.Function, out var name);
                Slice(_external, "external memory", (long)i.A * FpgaMemoryPlan.Unit, i.C).CopyTo(Slice(buffer, name, (long)i.B * FpgaMemoryPlan.Unit, i.C));
                return;
            }
            case Opcode.Store:
            {
                var buffer = Buffer(i.Function, out var name);
                Slice(buffer, name, (long)i.B * FpgaMemoryPlan.Unit, i.C).CopyTo(Slice(_external, "external memory", (long)i.A * FpgaMemoryPlan.Unit, i.C));
                return;
            }
            case Opcode.Gather:
            {
                var ids = MemoryMarshal.Cast<byte, int>(Slice(_activations, "activation buffer", (long)Hi(i.D) * FpgaMemoryPlan.Unit, (long)i.C * 4));
                for (int r = 0; r < i.C; r++)
                {
                    long row = (long)i.A * FpgaMemoryPlan.Unit + (long)(uint)ids[r] * i.B;
                    Slice(_external, "external memory", row, i.B).CopyTo(Slice(_activations, "activation buffer", (long)Lo(i.D) * FpgaMemoryPlan.Unit + (long)r * i.B, i.B));
                }
                return;
            }
            case Opcode.MatVec or Opcode.MatMat:
                Matrix(i);
                return;
            case Opcode.CoreMatVec or Opcode.CoreMatMat:
                CoreMatrix(CoreMatrixOperands.Of(i));
                return;
            case Opcode.CoreAttentionShape:
            {
                if (_cores is null) throw Fault("the accelerator has no matrix cores");
                var shape = CoreAttentionShape.Of(i);
                if (shape.Problem() is { } problem) throw Fault($"attention on the cores with {problem}");
                if (shape.Capacity > _cores.CodeBytes || shape.HeadDim > _cores.CodeBytes)
                    throw Fault($"rows of {shape.Capacity} probabilities or {shape.HeadDim} query codes; the cores' code banks hold {_cores.CodeBytes}");
                _attention = shape;
                return;
            }
            case Opcode.CoreAppend or Opcode.CoreScores or Opcode.CoreValues:
                CoreAttention(CoreAttentionOperands.Of(i));
                return;
            case Opcode.Sfu:
                Sfu(i);
                return;
            case Opcode.Sync:
                return; // in order: every unit is idle when the next instruction starts
            default:
                throw Fault("not an executable instruction");
        }
    }

    private void Matrix(Instruction i)
    {
        int n = Hi(i.B), k = Lo(i.B), m = Hi(i.C), input = Hi(i.D), output = Lo(i.D);
        if (MatrixFormat.IsAttention(i.Function))
        {
            Attention(i, n, k, m, input, output);
            return;
        }
        int bits = MatrixFormat.WeightBits(i.Function);
        bool sparse = (i.Function & MatrixFormat.Sparse) != 0, block = MatrixFormat.IsBlockSparse(i.Function);
        if (sparse && bits == 0) throw Fault("N:M-sparse f32 weights");
        var x = Act(input, (long)m * k);
        var y = Act(output, (long)m * n);
        long weights = (long)i.A * FpgaMemoryPlan.Unit;
        // Both engines write outputs while they still read (or have quantized) the input: it may not be overwritten.
        if (Intersect(output * 4L, (long)m * n, input * 4L, (long)m * k)) throw Fault("the destination overlaps a source");
        if (bits == 0)
        {
            var w = MemoryMarshal.Cast<byte, float>(Slice(_external, "external memory", weights, (long)n * k * 4));
            var result = new float[m * n];
            for (int r = 0; r < m; r++)
                for (int j = 0; j < n; j++)
                    result[r * n + j] = Fp32Dot.Dot(x.Slice(r * k, k), w.Slice(j * k, k));
            result.CopyTo(y);
            return;
        }
        int group = Lo(i.C);
        if (group < 1) throw Fault("a group of 0 weights");
        var scheme = MatrixLayout.Scheme(bits, group, k, i.Layout);
        bool lut = (i.Function & MatrixFormat.Lut) != 0;
        if (lut && (sparse || !MatrixFormat.LutReads(bits))) throw Fault($"LUT-mpGEMM over {(sparse ? "sparse " : "")}{bits}-bit codes");
        var matrix = block ? BlockSparseCodes(i, scheme, n, k, weights) : sparse ? SparseCodes(i, scheme, n, k, weights) : QuantizedMatrix.Unpack(scheme, n, k, Slice(_external, "external memory", weights, new QuantizedLayout(scheme, n, k).TotalBytes));
        (lut ? LutMpGemmKernel.Evaluate(x.ToArray(), matrix, m) : QMatMulKernel.IntegerGroupAccumulate(x.ToArray(), matrix, m, 8)).CopyTo(y);
    }

    /// <summary>
    /// A matrix on the cores: each core's slice of rows, read from its channel as a matrix of its own, through the
    /// engine's integer group sums and dequantization (the slices' rows are the matrix's, so the outputs are too).
    /// </summary>
    private void CoreMatrix(CoreMatrixOperands o)
    {
        var design = _cores ?? throw Fault("the accelerator has no matrix cores");
        if (design.Refusal(o) is { } refusal) throw Fault(refusal.Reason);
        if (o.M == 0 || o.N == 0) return;
        var x = Act(o.Input, (long)o.M * o.K);
        var y = Act(o.Output, (long)o.M * o.N);
        if (Intersect(o.Output * 4L, (long)o.M * o.N, o.Input * 4L, (long)o.M * o.K)) throw Fault("the destination overlaps a source");
        var scheme = o.Scheme;
        var type = o.Sparse ? DType.Sparse(SparseFormat.NOfM(MatrixCoreRules.Pattern(o).N, MatrixCoreRules.Pattern(o).M), DType.Quantized(scheme)) : DType.Quantized(scheme);
        // a reused row is what the banks hold, whatever the input field names (the compiler names the same row)
        var activations = !o.Reuse ? x.ToArray()
            : _heldRow is { } held && held.Length == o.K ? held
            : throw Fault($"reuses an activation row of {o.K} codes; the cores hold {(_heldRow is null ? "none (no core matrix instruction of one row since the last attention instruction)" : $"one of {_heldRow.Length}")}");
        _heldRow = o.M == 1 ? activations : null;
        var result = new float[(long)o.M * o.N];
        for (int c = 0; c < design.Cores; c++)
        {
            var (first, count) = MatrixCoreRules.Rows(o.N, design.Cores, c);
            if (count == 0) continue;
            var bytes = Slice(_channels[c], $"core {c}'s channel", o.Offset * FpgaMemoryPlan.Unit, CoreSlices.Bytes(type, count, o.K));
            QuantizedMatrix slice;
            try
            {
                slice = o.Sparse ? SparseMatrix.Unpack(type.Sparsity!, type.Element!, count, o.K, bytes).Quantized! : QuantizedMatrix.Unpack(scheme, count, o.K, bytes);
            }
            catch (CodesignException e)
            {
                throw Fault($"core {c}: {e.Message}");
            }
            var part = QMatMulKernel.IntegerGroupAccumulate(activations, slice, o.M, 8);
            for (int r = 0; r < o.M; r++) part.AsSpan(r * count, count).CopyTo(result.AsSpan(r * o.N + first, count));
        }
        result.CopyTo(y);
    }

    /// <summary>
    /// Attention on the cores (<see cref="CoreAttentionOperands"/>): core g of the round serves kv head first + g from its
    /// own channel; rows are quantized as the cluster's quantizer does (ActivationQuantizer, int8), products are integer
    /// and each output one dequantization (<see cref="QMatMulKernel.AccumulateGroup"/> from 0), as a one-group row of the
    /// cores' datapath computes it.
    /// </summary>
    private void CoreAttention(CoreAttentionOperands o)
    {
        _heldRow = null;  // attention quantizes each core's own rows into its banks
        if (_cores is null) throw Fault("the accelerator has no matrix cores");
        var shape = _attention ?? throw Fault("no attention shape was set (CORE ATTENTION SHAPE)");
        if (o.KvHeads > _cores.Cores || o.FirstKvHead + o.KvHeads > shape.KvHeads)
            throw Fault($"kv heads {o.FirstKvHead} to {o.FirstKvHead + o.KvHeads - 1} on {_cores.Cores} cores; the shape has {shape.KvHeads}");
        if (o.Tokens == 0 || o.KvHeads == 0) return;
        var layout = new CoreAttentionLayout(shape.Capacity, shape.HeadDim);
        int hd = shape.HeadDim, cap = shape.Capacity, q = shape.QueryGroup;
        long region = o.Offset * FpgaMemoryPlan.Unit;
        var codes = new int[Math.Max(hd, shape.Stride)];
        switch (o.Op)
        {
            case Opcode.CoreAppend:
            {
                if (o.Position + o.Tokens > cap) throw Fault($"positions {o.Position} to {o.Position + o.Tokens - 1}; the cache holds {cap}");
                var rows = Act(o.Input, (long)o.Tokens * shape.KvHeads * hd);
                int kvStride = CoreKvRegions.StrideFor(shape.KvHeads);
                var scales = o.Values ? Act(o.Output, (long)o.Tokens * kvStride) : default;
                for (int t = 0; t < o.Tokens; t++)
                    for (int g = 0; g < o.KvHeads; g++)
                    {
                        int head = o.FirstKvHead + g, position = o.Position + t;
                        float scale = ActivationQuantizer.QuantizeRow(rows.Slice((t * shape.KvHeads + head) * hd, hd), codes, 8);
                        string channel = $"core {g}'s channel";
                        if (o.Values)
                        {
                            for (int d = 0; d < hd; d++) Slice(_channels[g], channel, region + (long)d * cap + position, 1)[0] = (byte)(codes[d] + 128);
                            scales[t * kvStride + head] = scale;
                        }
                        else
                        {
                            var row = Slice(_channels[g], channel, region + (long)position * hd, hd);
                            for (int d = 0; d < hd; d++) row[d] = (byte)(codes[d] + 128);
                            BitConverter.TryWriteBytes(Slice(_channels[g], channel, region + layout.KeyScalesAt + position * 4L, 4), scale);
                        }
                    }
                return;
            }
            case Opcode.CoreScores:
            {
                if (o.Keys > shape.Stride) throw Fault($"{o.Keys} keys; score rows hold {shape.Stride}");
                var queries = Act(o.Input, (long)o.Tokens * shape.Heads * hd);
                var scores = Act(o.Output, (long)o.Tokens * shape.Heads * shape.Stride);
                if (Intersect(o.Output * 4L, (long)o.Tokens * shape.Heads * shape.Stride, o.Input * 4L, (long)o.Tokens * shape.Heads * hd)) throw Fault("the destination overlaps a source");
                for (int g = 0; g < o.KvHeads; g++)
                {
                    string channel = $"core {g}'s channel";
                    var keys = Slice(_channels[g], channel, region, (long)o.Keys * hd);
                    var keyScales = MemoryMarshal.Cast<byte, float>(Slice(_channels[g], channel, region + layout.KeyScalesAt, o.Keys * 4L));
                    for (int t = 0; t < o.Tokens; t++)
                        for (int i = 0; i < q; i++)
                        {
                            int row = t * shape.Heads + (o.FirstKvHead + g) * q + i;
                            float sq = ActivationQuantizer.QuantizeRow(queries.Slice(row * hd, hd), codes, 8);
                            for (int j = 0; j < o.Keys; j++)
                            {
                                long dot = 0;
                                for (int d = 0; d < hd; d++) dot += codes[d] * (keys[j * hd + d] - 128);
                                scores[row * shape.Stride + j] = QMatMulKernel.AccumulateGroup(0f, keyScales[j], sq, dot);
                            }
                        }
                }
                return;
            }
            default:
            {
                var probabilities = Act(o.Input, (long)o.Tokens * shape.Heads * shape.Stride);
                var outputs = Act(o.Output, (long)o.Tokens * shape.Heads * hd);
                if (Intersect(o.Output * 4L, (long)o.Tokens * shape.Heads * hd, o.Input * 4L, (long)o.Tokens * shape.Heads * shape.Stride)) throw Fault("the destination overlaps a source");
                var sums = new long[hd];
                for (int g = 0; g < o.KvHeads; g++)
                {
                    string channel = $"core {g}'s channel";
                    var values = Slice(_channels[g], channel, region, (long)(hd - 1) * cap + shape.Stride);
                    var rowScales = MemoryMarshal.Cast<byte, float>(Slice(_channels[g], channel, region + layout.ValueScalesAt, hd * 4L));
                    for (int t = 0; t < o.Tokens; t++)
                        for (int i = 0; i < q; i++)
                        {
                            int row = t * shape.Heads + (o.FirstKvHead + g) * q + i;
                            float sp = ActivationQuantizer.QuantizeRow(probabilities.Slice(row * shape.Stride, shape.Stride), codes, 8);
                            for (int d = 0; d < hd; d++)
                            {
                                long dot = 0;
                                for (int j = 0; j < shape.Stride; j++) dot += codes[j] * (values[d * cap + j] - 128);
                                outputs[row * hd + d] = QMatMulKernel.AccumulateGroup(0f, rowScales[d], sp, dot);
                            }
                        }
                }
                return;
            }
        }
    }

    /// <summary>
    /// An N:M-sparse matrix as the IR stores it (SparseLayout), its pruned codes at the zero point: the engine's
    /// products over kept codes and the dense integer sums are the same. The RTL trusts the structure; this model
    /// checks it, and the conditions the engine needs (whole M-windows per group, whole bytes of kept codes a row).
    /// </summary>
    private QuantizedMatrix SparseCodes(Instruction i, QuantScheme scheme, int n, int k, long weights)
    {
        var (keep, of) = MatrixLayout.PatternOf(i.Layout);
        if (MatrixLayout.SparseRowsProblem(keep, of, k, scheme.GroupLength(k), scheme.Bits) is { } problem)
            throw Fault($"{keep}:{of} sparsity over K = {k} in groups of {scheme.GroupLength(k)} at {scheme.Bits} bits: {problem}");
        var format = SparseFormat.NOfM(keep, of);
        var layout = SparseLayout.NOfM(format, DType.Quantized(scheme), n, k);
        var bytes = Slice(_external, "external memory", weights, layout.TotalBytes);
        try
        {
            return SparseMatrix.Unpack(format, DType.Quantized(scheme), n, k, bytes).Quantized!;
        }
        catch (CodesignException e)
        {
            throw Fault(e.Message);
        }
    }

    /// <summary>
    /// A block-sparse matrix as the IR stores it (the block mask, the kept blocks' codes, the dense grid's scales), its
    /// pruned codes at the zero point. The conditions are the engine's (<see cref="MatrixLayout.BlockRowsProblem"/>),
    /// apart from its buffers' sizes, which are the RTL's parameters.
    /// </summary>
    private QuantizedMatrix BlockSparseCodes(Instruction i, QuantScheme scheme, int n, int k, long weights)
    {
        var (rows, cols) = MatrixLayout.BlockShapeOf(i.Function, i.Layout);
        if (MatrixLayout.BlockRowsProblem(rows, cols, n, k, scheme.GroupLength(k), scheme.Bits, int.MaxValue, int.MaxValue) is { } problem)
            throw Fault($"{rows}x{cols} block sparsity over [{n}, {k}] in groups of {scheme.GroupLength(k)} at {scheme.Bits} bits: {problem}");
        var format = SparseFormat.Block(rows, cols);
        var element = DType.Quantized(scheme);
        var structure = new SparseStructure(format, n, k);
        try
        {
            var kept = structure.ReadStructure(Slice(_external, "external memory", weights, structure.StructureBytes));
            var layout = new SparseLayout(structure, element, structure.StoredPositions(kept).LongCount());
            return SparseMatrix.Unpack(format, element, n, k, Slice(_external, "external memory", weights, layout.TotalBytes)).Quantized!;
        }
        catch (Exception e) when (e is CodesignException or ArgumentException)
        {
            throw Fault(e.Message);
        }
    }

    /// <summary>
    /// Scores of a key tile (row stride n) or the output's Σ p·v over a value tile, for each (token, head) row of the
    /// step's m tokens (token-major); a row's kv head is its head's group.
    /// </summary>
    private void Attention(Instruction i, int n, int k, int m, int input, int output)
    {
        int kvHeads = Hi(i.A), tile = Lo(i.A), heads = Lo(i.C);
        if (kvHeads < 1 || heads % kvHeads != 0) throw Fault($"{heads} heads over {kvHeads} kv heads");
        int group = heads / kvHeads, rows = m * heads;
        if ((i.Function & MatrixFormat.AttentionScores) != 0)
        {
            int headDim = k, keysInTile = n, row = kvHeads * headDim;
            var q = Act(input, (long)rows * headDim);
            var scores = Act(output, (long)rows * keysInTile);
            var keys = Floats(_keys, "key buffer", tile, (long)keysInTile * row);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < keysInTile; j++)
                    scores[r * keysInTile + j] = Fp32Dot.Dot(q.Slice(r * headDim, headDim), keys.Slice(j * row + r % heads / group * headDim, headDim));
        }
        else
        {
            int headDim = n, valuesInTile = k, row = kvHeads * headDim;
            var p = Act(input, (long)rows * valuesInTile);
            var o = Act(output, (long)rows * headDim);
            var values = Floats(_values, "value buffer", tile, (long)valuesInTile * row);
            for (int r = 0; r < rows; r++)
                for (int d = 0; d < headDim; d++)
                    o[r * headDim + d] += Fp32Dot.DotStrided(p.Slice(r * valuesInTile, valuesInTile), values[(r % heads / group * headDim + d)..], row);
        }
    }

    /// <summary>Whether two runs of activation words intersect.</summary>
    private static bool Intersect(long aWord, long aWords, long bWord, long bWords) => aWord < bWord + bWords && bWord < aWord + aWords;

    /// <summary>
    /// The SFU's blocks stream (each reads an element, or a pair, before writing it): a destination (a unit) may be
    /// its source exactly, in place, but may not overlap it at another offset.
    /// </summary>
    private void RefuseOverlap(long dst, long src, long elements)
    {
        if (dst != src && Intersect(dst * 4, elements, src * 4, elements)) throw Fault("the destination overlaps a source at another offset");
    }

    private void Sfu(Instruction i)
    {
        int rows = checked((int)i.B), src = Hi(i.C), src2 = Lo(i.C), param = Hi(i.D), dst = Lo(i.D);
        switch ((SfuFunction)i.Function)
        {
            case SfuFunction.RmsNorm:
            {
                int d = checked((int)i.A);
                var gamma = Floats(_parameters, "parameter buffer", param, d);
                double eps = BitConverter.ToDouble(Slice(_parameters, "parameter buffer", ((long)param + OnChipBuffers.NormEpsOffset(d)) * FpgaMemoryPlan.Unit, 8));
                var x = Act(src, (long)rows * d).ToArray();
                var y = Act(dst, (long)rows * d);
                RefuseOverlap(dst, src, (long)rows * d);
                // The unit's binary64 steps assume no subnormal or overflow: eps is 0 or a positive normal below 2^512.
                if (BitConverter.DoubleToInt64Bits(eps) != 0 && !(double.IsNormal(eps) && eps > 0 && eps < Math.Pow(2, 512)))
                    throw Fault($"rms_norm's eps {eps:R} is not 0 or a positive normal below 2^512");
                for (int r = 0; r < rows; r++) SfuArithmetic.RmsNorm(x.AsSpan(r * d, d), gamma, eps, y.Slice(r * d, d));
                return;
            }
            case SfuFunction.Rope:
            {
                int d = checked((int)i.A), heads = src2, half = d / 2;
                if (heads < 1 || rows % heads != 0) throw Fault($"{rows} rows of {heads} heads per token");
                var table = Floats(_parameters, "parameter buffer", param, (long)rows / heads * d);
                var x = Act(src, (long)rows * d).ToArray();
                var y = Act(dst, (long)rows * d);
                RefuseOverlap(dst, src, (long)rows * d);
                for (int r = 0; r < rows; r++)
                {
                    var cosSin = table.Slice(r / heads * d, d);
                    SfuArithmetic.Rope(x.AsSpan(r * d, d), cosSin[..half], cosSin[half..], y.Slice(r * d, d));
                }
                return;
            }
            case SfuFunction.Silu or SfuFunction.Add or SfuFunction.Multiply:
            {
                long count = (long)rows * i.A;
                RefuseOverlap(dst, src, count);
                if ((SfuFunction)i.Function != SfuFunction.Silu) RefuseOverlap(dst, src2, count);
                var a = Act(src, count).ToArray();
                var b = (SfuFunction)i.Function == SfuFunction.Silu ? null : Act(src2, count).ToArray();
                var y = Act(dst, count);
                for (int e = 0; e < count; e++)
                    y[e] = (SfuFunction)i.Function switch
                    {
                        SfuFunction.Silu => SfuArithmetic.Silu(a[e]),
                        SfuFunction.Add => a[e] + b![e],
                        _ => a[e] * b![e],
                    };
                return;
            }
            case SfuFunction.SoftmaxTile:
            {
                var t = SoftmaxTileOperands.Of(i);
                float scale = Floats(_parameters, "parameter buffer", t.Parameter, 1)[0];
                var scores = Act(t.Scores, (long)t.Rows * t.Keys);
                var output = Act(t.Output, (long)t.Rows * t.HeadDim);
                var state = Act(t.State, (long)t.Rows * 2);
                for (int r = 0; r < t.Rows; r++)
                    SfuArithmetic.SoftmaxTile(scores.Slice(r * t.Keys, t.Keys), t.Visible(r), scale, ref state[2 * r], ref state[2 * r + 1],
                        output.Slice(r * t.HeadDim, t.HeadDim), t.First);
                return;
            }
            case SfuFunction.AttentionProbabilities:
            {
                var a = AttentionProbabilityOperands.Of(i);
                if (a.Keys > a.Stride || a.Heads == 0 || a.Heads % a.QueryGroup != 0 || a.Heads / a.QueryGroup > a.KvStride)
                    throw Fault($"{a.Keys} keys in rows of {a.Stride}, {a.Heads} heads as {a.QueryGroup} a kv head in value scales of {a.KvStride} a position");
                float scale = Floats(_parameters, "parameter buffer", a.Parameter, 1)[0];
                var scores = Act(a.Scores, (long)a.Rows * a.Stride);
                var valueScales = Act(a.ValueScales, (long)a.Keys * a.KvStride);
                if (Intersect(a.Scores * 4L, (long)a.Rows * a.Stride, a.ValueScales * 4L, (long)a.Keys * a.KvStride)) throw Fault("the value scales overlap the scores");
                for (int r = 0; r < a.Rows; r++)
                    SfuArithmetic.AttentionProbabilities(scores.Slice(r * a.Stride, a.Stride), a.Visible(r), scale, valueScales, a.KvStride, r % a.Heads / a.QueryGroup);
                return;
            }
            case SfuFunction.SoftmaxFinish:
            {
                int headDim = checked((int)i.A);
                var state = Act(src2, (long)rows * 2);
                var output = Act(dst, (long)rows * headDim);
                RefuseOverlap(dst, src, (long)rows * headDim);
                if (src != dst) Act(src, (long)rows * headDim).CopyTo(output);
                for (int r = 0; r < rows; r++) SfuArithmetic.SoftmaxFinish(output.Slice(r * headDim, headDim), state[2 * r + 1]);
                return;
            }
            default:
                throw Fault($"unknown sfu function {i.Function}");
        }
    }
}
