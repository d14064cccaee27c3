using Codesign.Backends.Gpu.Kernels;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Types;
using Codesign.IR.Values;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>
/// Chooses the kernels for each node. A node the gpu backend cannot run is reported with the op and the reason.
/// Weights are uploaded here, at lowering, so a forward call only launches kernels.
/// </summary>
internal static class GpuNodeLowering
{
    /// <summary>Up to this many tokens a linear layer runs as GEMV (weights streamed once per token); beyond, tiled GEMM.</summary>
    public const int GemvMaxTokens = 4;

    public static GpuStep Lower(Node node, GpuWeights weights, GpuFusionPlan plan, GpuDevice device)
    {
        var op = node.Op;
        return op switch
        {
            EmbeddingOp => Embedding(node, weights),
            RmsNormOp norm => RmsNorm(node, norm, weights, plan.PrologueNorms.ContainsKey(node.Outputs[0])),
            MatMulOp => weights.DenseMatrix(WeightOperand(node, 1)) switch
            {
                DenseF16GpuWeight h => Linear(node, h.Rows, device, GemvLaunch.DenseF16(device, h.Rows)),
                DenseF32GpuWeight f => Linear(node, f.Rows, device),
                var w => throw Unsupported(node, $"no dense kernel for {w.GetType().Name}"),
            },
            QMatMulOp { ActBits: 0 } q => QuantizedFloatLinear(node, weights.Quantized(WeightOperand(node, 1)).Rows(q.Accumulate == QMatMulOp.GroupAccumulate), weights, plan, device),
            QMatMulOp q => QuantizedLinear(node, (int)q.ActBits, weights.Quantized(WeightOperand(node, 1))),
            // Pruned codes are the zero point: the integer path computes them as dense, exactly.
            SpMatMulOp { ActBits: > 0 } sp => QuantizedLinear(node, (int)sp.ActBits, weights.Quantized(WeightOperand(node, 1))),
            LutMatMulOp => LutLinear(node, weights.Quantized(WeightOperand(node, 1))),
            SpMatMulOp => weights.Sparse(WeightOperand(node, 1)) switch
            {
                NOfMGpuWeight s => Linear(node, s.Rows, device),
                EllGpuWeight s => Linear(node, s.Rows, device),
                var w => throw Unsupported(node, $"no sparse kernel for {w.GetType().Name}"),
            },
            ReshapeOp => new GpuStep(node, node.Inputs, s => s.Env[node.Outputs[0]] = s.Env[node.Inputs[0]].Reshaped(s.Resolve(node.Outputs[0].Type)), view: true),
            TransposeOp t => Transpose(node, t),
            RopeOp rope => Rope(node, rope, weights),
            AttentionOp attention => Attention(node, attention, device.Geometry, plan.AttentionRopes.TryGetValue(node, out var ropes) ? ropes : null, weights),
            AddOp => Binary(node, (s, a, b, y) => s.Kernels.Add(s.Stride(y.Length), a, b, y), skipIfWritten: plan.IsEpilogueAdd(node)),
            MulOp when node.Inputs.Select(i => plan.Silus.GetValueOrDefault(i)).FirstOrDefault(v => v is not null) is { } gate => SiluMul(node, gate, plan.IsGatedMul(node)),
            MulOp => Binary(node, (s, a, b, y) => s.Kernels.Mul(s.Stride(y.Length), a, b, y)),
            SiluOp => new GpuStep(node, node.Inputs, s =>
            {
                var x = s.Env[node.Inputs[0]];
                var y = s.Output(node);
                s.Kernels.Silu(s.Stride(y.ElementCount), x.Floats, y.Floats);
            }),
            SoftmaxOp => new GpuStep(node, node.Inputs, s =>
            {
                int d = LastDim(node);
                var x = s.Env[node.Inputs[0]];
                var y = s.Output(node);
                s.Kernels.Softmax(s.Groups(checked((int)(x.ElementCount / d))), x.Floats, y.Floats, d);
            }),
            _ => throw Unsupported(node, "no gpu kernel for this op"),
        };
    }

    internal static bool WordKernelTakes(Node node)
    {
        var scheme = node.Inputs[1].Type.DType.Scheme!;
        int k = Dim(node, 1, 1);
        return WordCodeGemv.GroupWordShift(scheme.Bits, scheme.GroupLength(k), scheme.GroupCount(k)) >= 0;
    }

    /// <summary>The kernels <see cref="Lower"/> launches for <paramref name="node"/>, in words (an artifact lists them).</summary>
    public static string Describe(Node node)
    {
        string linear = $"gemv (≤ {GemvMaxTokens} tokens) / tiled gemm";
        var w = node.Inputs.Count > 1 ? node.Inputs[1].Type.DType : null;
        string what = node.Op switch
        {
            MatMulOp => $"{linear} over {w} rows",
            QMatMulOp { ActBits: > 0 } q => $"activation quantize (int{q.ActBits}) + exact integer gemv over {w}",
            SpMatMulOp { ActBits: > 0 } sp => $"activation quantize (int{sp.ActBits}) + exact integer gemv over {w}'s codes as dense",
            QMatMulOp q => $"{(WordKernelTakes(node) ? "word-code gemv" : "gemv")} (≤ {GemvMaxTokens} tokens) / tiled gemm dequantizing {w} in registers{(q.Accumulate == QMatMulOp.GroupAccumulate ? ", scaled per group (MixPE)" : "")}",
            LutMatMulOp => $"lut tables + lut gemv over {w}",
            SpMatMulOp => $"{linear} over {(w?.Sparsity?.Kind == SparseKind.NOfM ? "N:M values + offsets" : "ELL rows")} of {w}",
            AttentionOp a => $"split-k decode appending its own k and v / kv append + flash prefill{(a.KvBits != 0 ? $" (cache int{a.KvBits})" : "")}, turning q and k where their ropes feed only it",
            MulOp when node.Inputs.Any(i => i.Producer?.Op is SiluOp) => "mul, or silu·mul fused",
            ReshapeOp => "view",
            _ => "one kernel",
        };
        return $"{node.Op.Mnemonic}: {what}";
    }

    public static CodesignException Unsupported(Node node, string why) =>
        new($"gpu backend: cannot run %{node.Outputs[0].Name} = {node.Op.Mnemonic}: {why}");

    private static int LastDim(Node node) => checked((int)node.Inputs[0].Type[-1].Size);
    private static int Dim(Node node, int input, int axis) => checked((int)node.Inputs[input].Type[axis].Size);

    private static Value WeightOperand(Node node, int input) =>
        node.Inputs[input].WeightKey is not null ? node.Inputs[input] : throw Unsupported(node, $"operand {input} must be a weight");

    private static GpuStep Embedding(Node node, GpuWeights weights)
    {
        var table = weights.DenseF32(WeightOperand(node, 1));
        int vocab = table.Shape[0], d = table.Shape[1];
        var ids = node.Inputs[0];
        if (ids.Kind != ValueKind.Input)
            throw Unsupported(node, "token ids must be a graph input (they are checked against the table on the host before upload)");
        return new GpuStep(node, [ids], s =>
        {
            foreach (int id in s.HostInts[ids])
                if (id < 0 || id >= vocab)
                    throw new CodesignException($"{node.Op.Mnemonic} %{node.Outputs[0].Name}: token id {id} is outside the table of {vocab} rows");
            var y = s.Output(node);
            s.Kernels.Embedding(s.Stride(y.ElementCount), s.Env[ids].Ints, table.Values, y.Floats, d);
        });
    }

    /// <param name="foldedIntoGemvs">The GEMVs reading it apply it (<see cref="GpuFusionPlan.PrologueNorms"/>): it runs only
    /// for more tokens than a GEMV takes.</param>
    private static GpuStep RmsNorm(Node node, RmsNormOp norm, GpuWeights weights, bool foldedIntoGemvs)
    {
        var gain = weights.DenseF32(WeightOperand(node, 1));
        int d = LastDim(node);
        return new GpuStep(node, [node.Inputs[0]], s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            s.Kernels.RmsNorm(s.Groups(checked((int)(x.ElementCount / d))), x.Floats, gain.Values, y.Floats, d, norm.Eps);
        }, skip: foldedIntoGemvs ? s => s.Env[node.Inputs[0]].ElementCount / d <= GemvMaxTokens : null);
    }

    /// <summary>
    /// Any weight format through the generic GEMV (decode) or tiled GEMM (prefill); <paramref name="gemv"/>, where given,
    /// launches the decode GEMV instead (<see cref="GemvLaunch"/>'s choice for the format).
    /// </summary>
    private static GpuStep Linear<TW>(Node node, TW rows, GpuDevice device, GemvLaunch.Enqueue? gemv = null)
        where TW : struct, IWeightRows
    {
        int n = Dim(node, 1, 0), k = Dim(node, 1, 1);
        gemv ??= GemvLaunch.Generic(device, rows, n, k);
        return new GpuStep(node, [node.Inputs[0]], s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            int m = checked((int)(x.ElementCount / k));
            if (m <= GemvMaxTokens)
                gemv(x.Floats, y.Floats, m);
            else
                Gemm(s, rows, x, y, m, n, k);
        });
    }

    /// <summary>The tiled GEMM (prefill) of <paramref name="m"/> tokens over a weight of <paramref name="n"/> × <paramref name="k"/>.</summary>
    private static void Gemm<TW>(GpuRunState s, TW rows, GpuTensor x, GpuTensor y, int m, int n, int k) where TW : struct, IWeightRows =>
        s.Kernels.Gemm<TW>()(s.Groups(LinearKernels.GemmGroups(m, n, s.Geometry.GroupSize)), x.Floats, y.Floats, rows, m, n, k);

    /// <summary>
    /// A qmatmul on f32 activations: decode through <see cref="WordGemvLaunch"/> (or the generic GEMV), with the plan's
    /// rms_norm before and residual add after folded into the word kernel's launch; prefill through the tiled GEMM.
    /// </summary>
    private static GpuStep QuantizedFloatLinear(Node node, QuantizedRows rows, GpuWeights weights, GpuFusionPlan plan, GpuDevice device)
    {
        int n = rows.N, k = rows.K;
        var input = node.Inputs[0];
        var norm = plan.PrologueNorms.GetValueOrDefault(input);
        var normGain = norm is null ? null : weights.DenseF32(WeightOperand(norm, 1));
        float normEps = norm is null ? 0f : (float)((RmsNormOp)norm.Op).Eps;
        var add = plan.ResidualAdds.GetValueOrDefault(node);
        var residual = add?.Inputs.Single(i => i != node.Outputs[0]);
        QuantizedRows RowsOf(Node g) => weights.Quantized(WeightOperand(g, 1)).Rows(false);
        // The decode launch, prepared here. Where this GEMV leads siblings, it computes theirs too (they are skipped); where
        // they are a gate and an up projection, it computes the mul of silu(gate) and up instead. The plan folds nothing
        // into a GEMV the word kernel does not take.
        var siblings = plan.SiblingLaunches.TryGetValue(node, out var group) ? group.Skip(1).ToList() : [];
        var gatedMul = plan.GatedLaunches.TryGetValue(node, out var pair) ? pair.Mul : null;
        var word = gatedMul is not null ? WordGemvLaunch.Gated(device, RowsOf(pair.Gate), RowsOf(pair.Up))
            : WordGemvLaunch.Takes(rows) ? WordGemvLaunch.Siblings(device, [rows, .. siblings.Select(RowsOf)])
            : null;
        var generic = word is null ? GemvLaunch.Quantized(device, rows) : null;
        var gatedMulOfFollower = plan.GatedLaunches.Values.FirstOrDefault(g => g.Up == node || g.Gate == node).Mul;
        List<Value> reads = [input];
        if (norm is not null) reads.Add(norm.Inputs[0]);
        if (residual is not null) reads.Add(residual);
        return new GpuStep(node, reads, s =>
        {
            // A folded norm's output exists only where the norm ran: for prefill.
            bool normalized = s.Env.TryGetValue(input, out var x);
            x ??= s.Env[norm!.Inputs[0]];
            int m = checked((int)(x.ElementCount / k));
            if (m > GemvMaxTokens)
            {
                Gemm(s, rows, x, s.Output(node), m, n, k);
                return;
            }
            if (word is null)
            {
                generic!(x.Floats, s.Output(node).Floats, m);
                return;
            }
            var fusion = new WordGemvFusion();
            if (!normalized)
            {
                fusion.NormGain = normGain!.Values;
                fusion.NormEps = normEps;
                fusion.NormInverseLength = 1f / k;
            }
            if (gatedMul is not null)
            {
                word.Enqueue(x.Floats, m, fusion, s.Output(gatedMul).Floats);
                return;
            }
            var output = add is null ? s.Output(node) : s.Output(add);
            if (add is not null) fusion.Residual = s.Env[residual!].Floats;
            word.Enqueue(x.Floats, m, fusion, output.Floats,
                siblings.Count > 0 ? s.Output(siblings[0]).Floats : default, siblings.Count > 1 ? s.Output(siblings[1]).Floats : default);
        }, skip: plan.SiblingFollowers.Contains(node)
            ? s => s.Env.ContainsKey(node.Outputs[0]) || (gatedMulOfFollower is not null && s.Env.ContainsKey(gatedMulOfFollower.Outputs[0]))
            : null);
    }

    private static GpuStep QuantizedLinear(Node node, int actBits, QuantizedGpuWeight w)
    {
        var rows = w.Rows(false);
        int k = rows.K, qmax = ActivationQuantizer.MaxCode(actBits);
        // The integer group dots are exact in i32: |a| ≤ qmax, |code − zero| ≤ 255.
        if ((long)rows.GroupLength * qmax * 255 >= int.MaxValue)
            throw Unsupported(node, $"groups of {rows.GroupLength} weights could overflow the exact 32-bit integer dot products");
        return new GpuStep(node, [node.Inputs[0]], s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            int m = checked((int)(x.ElementCount / k));
            var scratch = s.Scratch(m + ((long)m * k + 3) / 4);
            ArrayView<float> all = scratch.Buffer.View;
            var scales = all.SubView(0, m);
            var codes = all.SubView(m, ((long)m * k + 3) / 4).Cast<sbyte>().SubView(0, (long)m * k);
            s.Kernels.QuantizeActivations(s.Groups(m), x.Floats, codes, scales, k, qmax);
            s.Kernels.IntegerGemv(s.Groups(s.Geometry.WarpRowGroups(rows.N)), codes, scales, y.Floats, rows, m);
            scratch.Release();
        });
    }

    private static GpuStep LutLinear(Node node, QuantizedGpuWeight w)
    {
        if (w.Bits > 4) throw Unsupported(node, $"LUT-mpGEMM takes 1–4-bit weights, not {w.Bits}-bit");
        var rows = w.Rows(false);
        int k = rows.K, planes = LutMpGemmKernel.Planes(node.Inputs[1].Type.DType.Scheme!);
        int runs = LutMpGemmKernel.Runs(rows.GroupLength);
        return new GpuStep(node, [node.Inputs[0]], s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            int m = checked((int)(x.ElementCount / k));
            long tables = (long)m * rows.Groups;
            long entryFloats = (tables * runs * LutMpGemmKernel.StoredEntries + 3) / 4;
            var scratch = s.Scratch(2 * tables + entryFloats);
            ArrayView<float> all = scratch.Buffer.View;
            var t = new LutTables
            {
                Scales = all.SubView(0, tables),
                Sums = all.SubView(tables, tables),
                Entries = all.SubView(2 * tables, entryFloats).Cast<sbyte>(),
                Groups = rows.Groups,
                RunsPerGroup = runs,
            };
            s.Kernels.LutTables(s.Stride(tables), x.Floats, t, m, k, rows.GroupLength);
            s.Kernels.LutGemv(s.Groups(s.Geometry.WarpRowGroups(rows.N)), t, y.Floats, rows, m, planes);
            scratch.Release();
        });
    }

    private static GpuStep Transpose(Node node, TransposeOp op)
    {
        int rank = op.Perm.Count;
        if (rank > 4) throw Unsupported(node, $"transposes of rank {rank} (the kernel takes up to 4)");
        return new GpuStep(node, node.Inputs, s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            var inStrides = new long[rank];
            long stride = 1;
            for (int a = rank - 1; a >= 0; a--) { inStrides[a] = stride; stride *= x.Shape[a]; }
            var dims = new int[4];
            var strides = new long[4];
            for (int a = 0; a < 4; a++)
            {
                int src = a - (4 - rank);
                dims[a] = src < 0 ? 1 : y.Shape[src];
                strides[a] = src < 0 ? 0 : inStrides[op.Perm[src]];
            }
            s.Kernels.Transpose(s.Stride(y.ElementCount), x.Floats, y.Floats, new TransposeShape(dims[0], dims[1], dims[2], dims[3], strides[0], strides[1], strides[2], strides[3]));
        });
    }

    private static GpuStep Rope(Node node, RopeOp rope, GpuWeights weights)
    {
        int heads = Dim(node, 0, 1), headDim = Dim(node, 0, 2);
        var invFreq = InverseFrequencies(rope, headDim, weights);
        return new GpuStep(node, node.Inputs, s =>
        {
            var x = s.Env[node.Inputs[0]];
            var y = s.Output(node);
            s.Kernels.Rope(s.Stride(x.ElementCount), x.Floats, Rotary(s, node.Inputs[1], invFreq), y.Floats, heads, headDim);
        });
    }

    private static ArrayView<float> InverseFrequencies(RopeOp rope, int headDim, GpuWeights weights) =>
        weights.Constant(IR.Semantics.RopeKernel.InverseFrequencies(rope.Theta, headDim));

    private static RotaryEmbedding Rotary(GpuRunState s, Value positions, ArrayView<float> invFreq) =>
        new() { Positions = s.Env[positions].Ints, InverseFrequencies = invFreq };

    /// <param name="skipIfWritten">A GEMV may have written the output already (<see cref="GpuFusionPlan.ResidualAdds"/>).</param>
    private static GpuStep Binary(Node node, Action<GpuRunState, ArrayView<float>, ArrayView<float>, ArrayView<float>> launch, bool skipIfWritten = false) =>
        new(node, node.Inputs, s =>
        {
            var (a, b) = (s.Env[node.Inputs[0]], s.Env[node.Inputs[1]]);
            if (a.ElementCount != b.ElementCount)
                throw new CodesignException($"{node.Op.Mnemonic} %{node.Outputs[0].Name}: operands have {a.ElementCount} and {b.ElementCount} elements");
            var y = s.Output(node);
            launch(s, a.Floats, b.Floats, y.Floats);
        }, skip: skipIfWritten ? s => s.Env.ContainsKey(node.Outputs[0]) : null);

    /// <summary>mul(silu(gate), up) as one kernel; the silu node was skipped, so read its input.</summary>
    /// <param name="skipIfWritten">A gated GEMV launch may have written the output already (<see cref="GpuFusionPlan.GatedLaunches"/>).</param>
    private static GpuStep SiluMul(Node mul, Value gate, bool skipIfWritten)
    {
        var up = mul.Inputs[0].Producer?.Op is SiluOp ? mul.Inputs[1] : mul.Inputs[0];
        return new GpuStep(mul, [gate, up], s =>
        {
            var y = s.Output(mul);
            s.Kernels.SiluMul(s.Stride(y.ElementCount), s.Env[gate].Floats, s.Env[up].Floats, y.Floats);
        }, skip: skipIfWritten ? s => s.Env.ContainsKey(mul.Outputs[0]) : null);
    }

    /// <param name="ropes">The q and k ropes the plan folds into this attention, or null.</param>
    private static GpuStep Attention(Node node, AttentionOp op, GpuGeometry geometry, (Node Query, Node Key)? ropes, GpuWeights weights)
    {
        if (op.ActBits != 0) throw Unsupported(node, $"integer attention (act_bits = {op.ActBits}) has no gpu kernel; run it on the interpreter, the cpu or the fpga");
        int heads = Dim(node, 0, 1), headDim = Dim(node, 0, 2), kvHeads = Dim(node, 1, 1);
        int qmax = op.KvBits == 0 ? 0 : ActivationQuantizer.MaxCode((int)op.KvBits);
        int rowSize = kvHeads * headDim;
        var tiling = PrefillTiling.For(headDim, geometry.WarpsPerGroup, geometry.SharedBytesPerGroup)
            ?? throw Unsupported(node, $"heads of {headDim} dims: prefill attention needs more than the {geometry.SharedBytesPerGroup} bytes of shared memory a group may have");
        if (AttentionKernels.DecodeSharedBytes(headDim, geometry.GroupSize) > geometry.SharedBytesPerGroup)
            throw Unsupported(node, $"heads of {headDim} dims: decode attention needs {AttentionKernels.DecodeSharedBytes(headDim, geometry.GroupSize)} bytes of shared memory, more than the {geometry.SharedBytesPerGroup} a group may have");
        // Folded ropes: read their inputs, and turn q and k in the attention kernels.
        var (qIn, kIn) = ropes is { } r ? (r.Query.Inputs[0], r.Key.Inputs[0]) : (node.Inputs[0], node.Inputs[1]);
        var positions = ropes?.Query.Inputs[1];
        var invFreq = ropes is { } f ? InverseFrequencies((RopeOp)f.Query.Op, headDim, weights) : default;
        List<Value> reads = [qIn, kIn, node.Inputs[2]];
        if (positions is not null) reads.Add(positions);
        return new GpuStep(node, reads, s =>
        {
            var (q, k, v) = (s.Env[qIn], s.Env[kIn], s.Env[node.Inputs[2]]);
            var rotary = positions is null ? default : Rotary(s, positions, invFreq);
            int tokens = q.Shape[0];
            var layer = s.Cache.Reserve(op.Layer, rowSize, tokens);
            int past = layer.Length;
            layer.Length = past + tokens;
            var y = s.Output(node);
            if (tokens == 1)
            {
                // The decode kernel appends the token's key and value itself.
                int splits = (past + tokens + AttentionKernels.SplitLength - 1) / AttentionKernels.SplitLength;
                var shape = new AttentionShape(tokens, past, heads, kvHeads, headDim, (float)op.Scale, splits);
                var config = new KernelConfig(new Index1D(heads * splits), new Index1D(s.Geometry.GroupSize),
                    SharedMemoryConfig.RequestDynamic<float>(AttentionKernels.DecodeSharedFloats(headDim, s.Geometry.GroupSize)));
                if (splits == 1)
                {
                    // One slice: the kernel writes y itself and reads no partial buffer (y stands in for it).
                    s.Kernels.DecodeSlices(config, q.Floats, k.Floats, v.Floats, layer.Keys.View, layer.Values.View, y.Floats, y.Floats, shape, rotary, qmax);
                    return;
                }
                var partial = s.Scratch((long)heads * splits * (headDim + 2));
                s.Kernels.DecodeSlices(config, q.Floats, k.Floats, v.Floats, layer.Keys.View, layer.Values.View, partial.Buffer.View, y.Floats, shape, rotary, qmax);
                s.Kernels.MergeSlices(s.Groups(heads), partial.Buffer.View, y.Floats, shape);
                partial.Release();
            }
            else
            {
                s.Kernels.AppendKv(s.Groups(2 * tokens * kvHeads), k.Floats, v.Floats, layer.Keys.View, layer.Values.View, (long)past * rowSize, headDim, qmax,
                    rotary, kvHeads);
                var shape = new AttentionShape(tokens, past, heads, kvHeads, headDim, (float)op.Scale, 1);
                var config = new KernelConfig(new Index1D((tokens + tiling.Warps - 1) / tiling.Warps * heads), new Index1D(tiling.Warps * s.Geometry.WarpSize),
                    SharedMemoryConfig.RequestDynamic<float>(checked((int)tiling.SharedFloats)));
                s.Kernels.Prefill(config, q.Floats, layer.Keys.View, layer.Values.View, y.Floats, shape, tiling, rotary);
            }
        });
    }
}
