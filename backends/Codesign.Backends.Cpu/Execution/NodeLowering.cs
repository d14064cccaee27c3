using Codesign.Backends.Cpu.Codegen;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// Chooses the kernel for each node and how its operands become slots. A node the cpu backend cannot run is
/// reported with the op and the reason, never skipped.
/// </summary>
internal static unsafe class NodeLowering
{
    public static CpuStep Lower(Node node, PreparedWeights weights)
    {
        var op = node.Op;
        var output = node.Outputs[0];
        return op switch
        {
            EmbeddingOp => Embedding(node, weights),
            RmsNormOp norm => RmsNorm(node, norm, weights),
            MatMulOp => DenseLinear(node, weights),
            QMatMulOp q => QuantizedLinear(node, q, weights),
            LutMatMulOp => LutLinear(node, weights),
            SpMatMulOp { ActBits: > 0 } sp => IntegerLinear(node, weights.Quantized(WeightOperand(node, 1)), (int)sp.ActBits, Dim(node, 1, 0), Dim(node, 1, 1)),
            SpMatMulOp => SparseLinear(node, weights),
            TransposeOp transpose => Transpose(node, transpose),
            ReshapeOp => new CpuStep(node, [], (s, _) => s.Env[output] = s.Env[node.Inputs[0]].Reshaped(s.Resolve(output.Type))),
            RopeOp rope => new CpuStep(node, new RopeSpec(Dim(node, 0, 1), Dim(node, 0, 2), rope.Theta), (s, k) =>
            {
                var x = s.Env[node.Inputs[0]];
                var y = Output(s, node);
                s.Launcher.Launch(k, [x.Pointer, s.Env[node.Inputs[1]].Pointer, y.Pointer], x.Shape[0], x.ElementCount / x.Shape[0]);
            }),
            AttentionOp attention => Attention(node, attention),
            AddOp => Elementwise(node, ElementwiseKind.Add),
            MulOp => Elementwise(node, ElementwiseKind.Mul),
            SiluOp => Elementwise(node, ElementwiseKind.Silu),
            SoftmaxOp => new CpuStep(node, new SoftmaxSpec(LastDim(node)), (s, k) =>
            {
                var x = s.Env[node.Inputs[0]];
                var y = Output(s, node);
                s.Launcher.Launch(k, [x.Pointer, y.Pointer], x.ElementCount / LastDim(node), LastDim(node));
            }),
            _ => throw Unsupported(node, "no cpu kernel for this op yet"),
        };
    }

    private static CodesignException Unsupported(Node node, string why) =>
        new($"cpu backend: cannot run %{node.Outputs[0].Name} = {node.Op.Mnemonic}: {why}");

    private static int LastDim(Node node) => checked((int)node.Inputs[0].Type[-1].Size);
    private static int Dim(Node node, int input, int axis) => checked((int)node.Inputs[input].Type[axis].Size);

    private static CpuTensor Output(CpuRunState s, Node node)
    {
        var y = CpuTensor.NewF32(s.Resolve(node.Outputs[0].Type));
        s.Env[node.Outputs[0]] = y;
        return y;
    }

    /// <summary>Operand <paramref name="input"/>, which the cpu kernels read as a prepared weight (not a computed tensor).</summary>
    private static IR.Values.Value WeightOperand(Node node, int input) =>
        node.Inputs[input].WeightKey is not null ? node.Inputs[input] : throw Unsupported(node, $"operand {input} must be a weight");

    private static nint Dense(PreparedWeights weights, Node node, int input) => weights.Dense(WeightOperand(node, input)).Data;

    // Weights are prepared while lowering, never inside a step: an artifact stores exactly the forms lowering asked for.
    private static CpuStep RmsNorm(Node node, RmsNormOp norm, PreparedWeights weights)
    {
        int d = LastDim(node);
        nint gain = Dense(weights, node, 1);
        return new CpuStep(node, new RmsNormSpec(d, norm.Eps), (s, k) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            s.Launcher.Launch(k, [x.Pointer, gain, y.Pointer], x.ElementCount / d, d);
        });
    }

    private static CpuStep Embedding(Node node, PreparedWeights weights)
    {
        long vocab = node.Inputs[1].Type[0].Size;
        int d = checked((int)node.Inputs[1].Type[1].Size);
        nint table = Dense(weights, node, 1);
        return new CpuStep(node, new EmbeddingSpec(d), (s, k) =>
        {
            var ids = s.Env[node.Inputs[0]];
            foreach (int id in ids.Ints!)
                if (id < 0 || id >= vocab)
                    throw new CodesignException($"{node.Op.Mnemonic} %{node.Outputs[0].Name}: token id {id} is outside the table of {vocab} rows");
            var y = Output(s, node);
            s.Launcher.Launch(k, [ids.Pointer, table, y.Pointer], ids.ElementCount, d);
        });
    }

    private static CpuStep DenseLinear(Node node, PreparedWeights weights)
    {
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        nint w = Dense(weights, node, 1);
        return new CpuStep(node, new DenseLinearSpec(k), (s, kernel) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            s.Launcher.Launch(kernel, [x.Pointer, w, y.Pointer, m, n], n, k * m);
        });
    }

    private static CpuStep QuantizedLinear(Node node, QMatMulOp op, PreparedWeights weights)
    {
        var w = weights.Quantized(WeightOperand(node, 1));
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        if (op.ActBits != 0) return IntegerLinear(node, w, (int)op.ActBits, n, k);
        IKernelSpec spec = op.Accumulate == QMatMulOp.GroupAccumulate ? GroupAccumulateLinearSpec.For(w.Scheme, k) : QuantizedLinearSpec.For(w.Scheme, k);
        return new CpuStep(node, spec, (s, kernel) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            s.Launcher.Launch(kernel, [x.Pointer, w.Codes, w.Scales, w.Zeros, y.Pointer, m, n], n, k * m);
        });
    }

    /// <summary>
    /// Activations quantized per token into a scratch array, then exact integer dots per group. Pruned quantized weights
    /// (spmatmul with act_bits) take this path as dense codes: a pruned code is the zero point and adds exactly 0.
    /// </summary>
    private static CpuStep IntegerLinear(Node node, QuantizedWeight w, int actBits, int n, int k) =>
        new(node, [new ActivationQuantizeSpec(k, actBits), IntegerLinearSpec.For(w.Scheme, k, actBits)], (s, kernels) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            var scratch = CpuTensor.NewF32([checked((int)(m + (m * k + sizeof(float) - 1) / sizeof(float)))]);
            nint scales = scratch.Pointer, codes = scales + (nint)(m * sizeof(float));
            s.Launcher.Launch(kernels[0], [x.Pointer, codes, scales], m, k);
            s.Launcher.Launch(kernels[1], [codes, scales, w.Codes, w.Scales, w.Zeros, y.Pointer, m, n], n, k * m);
            GC.KeepAlive(scratch);
        });

    private static CpuStep SparseLinear(Node node, PreparedWeights weights)
    {
        var operand = WeightOperand(node, 1);
        if (operand.Type.DType.Sparsity is { } format && HalfSparseLinearSpec.Supports(format) && CpuFeatures.Has(HalfSparseLinearSpec.RequiredFeature))
            return HalfSparseLinear(node, weights.HalfSparse(operand));
        var w = weights.SparseRows(operand);
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        long keptPerRow = Math.Max(1, w.StoredValues / Math.Max(1, n));
        return new CpuStep(node, new SparseLinearSpec(k), (s, kernel) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            s.Launcher.Launch(kernel, [x.Pointer, w.RowStarts, w.Columns, w.Values, y.Pointer, m, n], n, keptPerRow * m);
        });
    }

    private static CpuStep HalfSparseLinear(Node node, HalfSparseWeight w)
    {
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        return new CpuStep(node, new HalfSparseLinearSpec(k), (s, kernel) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            s.Launcher.Launch(kernel, [x.Pointer, w.Indices, w.Values, y.Pointer, m, n], n, k / 2 * m);
        });
    }

    private static CpuStep LutLinear(Node node, PreparedWeights weights)
    {
        if (!CpuFeatures.Has(LutLinearSpec.RequiredFeature))
            throw Unsupported(node, $"the LUT kernels need {LutLinearSpec.RequiredFeature.ToUpperInvariant()} byte shuffles, which this CPU lacks (lower to quant.qmatmul instead)");
        var w = weights.Lut(WeightOperand(node, 1));
        var geo = w.Spec.Geometry;
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        return new CpuStep(node, [new LutTableSpec(geo), w.Spec], (s, kernels) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            long m = x.ElementCount / k;
            // Tables (int8) and the per-group ts and Σx of every token, in one scratch array.
            long tableFloats = (m * geo.TableBytesPerToken + sizeof(float) - 1) / sizeof(float);
            var scratch = CpuTensor.NewF32([checked((int)(tableFloats + 2 * m * geo.Groups))]);
            nint tables = scratch.Pointer, ts = tables + (nint)(tableFloats * sizeof(float)), sums = ts + (nint)(m * geo.Groups * sizeof(float));
            s.Launcher.Launch(kernels[0], [x.Pointer, tables, ts, sums], m * geo.Groups, geo.GroupLength);
            s.Launcher.Launch(kernels[1], [tables, ts, sums, w.Units, w.Scales, w.Zeros, y.Pointer, m, n], LutGeometry.RowBlocks(n), (long)k * m * LutGeometry.RowsPerBlock);
            // Only raw pointers into the scratch array are live during the launches: keep the array itself alive.
            GC.KeepAlive(scratch);
        });
    }

    private static CpuStep Transpose(Node node, TransposeOp op) =>
        new(node, new TransposeSpec(op.Perm), (s, k) =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = Output(s, node);
            int last = x.Shape[op.Perm[^1]];
            long rows = last == 0 ? 0 : x.ElementCount / last;
            s.Launcher.Launch(k, [x.Pointer, y.Pointer, .. x.Shape.Select(d => (long)d)], rows, last);
        });

    private static CpuStep Elementwise(Node node, ElementwiseKind kind) =>
        new(node, new ElementwiseSpec(kind), (s, k) =>
        {
            var a = s.Env[node.Inputs[0]];
            var b = kind == ElementwiseKind.Silu ? a : s.Env[node.Inputs[1]];
            if (b.ElementCount != a.ElementCount)
                throw new CodesignException($"{node.Op.Mnemonic} %{node.Outputs[0].Name}: operands have {a.ElementCount} and {b.ElementCount} elements");
            var y = Output(s, node);
            s.Launcher.Launch(k, [a.Pointer, b.Pointer, y.Pointer], a.ElementCount, kind == ElementwiseKind.Silu ? 16 : 1);
        });

    private static CpuStep Attention(Node node, AttentionOp op)
    {
        int heads = Dim(node, 0, 1), headDim = Dim(node, 0, 2), kvHeads = Dim(node, 1, 1);
        return new CpuStep(node, new AttentionSpec(heads, kvHeads, headDim, op.Scale), (s, kernel) =>
        {
            var (q, k, v) = (s.Env[node.Inputs[0]], s.Env[node.Inputs[1]], s.Env[node.Inputs[2]]);
            var y = Output(s, node);
            int qRow = heads * headDim, kvRow = kvHeads * headDim;
            foreach (var (sequence, start, tokens) in s.Batch.Split(q.Shape[0], op.Mnemonic))
            {
                var layer = sequence.Layer(op.Layer);
                int past = layer.Length;
                layer.Append(k.Floats.AsSpan(start * kvRow, tokens * kvRow), v.Floats.AsSpan(start * kvRow, tokens * kvRow), tokens, kvRow, headDim, (int)op.KvBits);
                if (op.ActBits != 0)
                {
                    // integer attention over the cache's codes: the reference kernel, on the host
                    AttentionKernel.RunInteger(q.Floats.AsSpan(start * qRow, tokens * qRow), layer, past, tokens, heads, kvHeads, headDim, (float)op.Scale, (int)op.ActBits)
                        .CopyTo(y.Floats.AsSpan(start * qRow, tokens * qRow));
                    continue;
                }
                var (cachedKeys, cachedValues) = sequence.Rows(layer);
                // The cache may move when it grows: fixed for the launch, which is synchronous.
                fixed (float* keys = cachedKeys.Span, values = cachedValues.Span)
                    s.Launcher.Launch(kernel, [q.Pointer + start * qRow * sizeof(float), (nint)keys, (nint)values, y.Pointer + start * qRow * sizeof(float), past, tokens],
                        (long)tokens * heads, (long)(past + tokens) * headDim);
            }
        });
    }
}
