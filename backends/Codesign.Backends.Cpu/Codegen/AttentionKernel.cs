using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// nn.attention over the KV cache (new keys and values already appended by the runtime): query s at absolute
/// position past + s attends to cached positions 0..past+s; query head h reads kv head h / (H / KVH).
/// Scores are dot · scale, softmax over the visible positions, then Σ p · v. One kernel serves prefill
/// (T &gt; 1) and decode (T = 1). Slots: q [T, H, D], keys, values ([positions, KVH, D]), out [T, H, D], past, T.
/// Work items: (token, head) pairs.
/// </summary>
public sealed record AttentionSpec(int Heads, int KvHeads, int HeadDim, double Scale) : IKernelSpec
{
    public string Name => $"attention_h{Heads}_kv{KvHeads}_d{HeadDim}_s{BitConverter.DoubleToInt64Bits(Scale):x}";

    public void Emit(LlvmModule module, int lanes) => KernelAbi.Define(module, Name, (b, slots, begin, end) =>
    {
        var t = b.T;
        LValue q = b.PointerSlot(slots, 0), keys = b.PointerSlot(slots, 1), values = b.PointerSlot(slots, 2), output = b.PointerSlot(slots, 3);
        LValue past = b.Slot(slots, 4), tokens = b.Slot(slots, 5);
        var scores = b.StackArray(t.F32, b.Add(past, tokens));
        var d = t.I64Const(HeadDim);
        var kvRow = t.I64Const((long)KvHeads * HeadDim);
        var scale = t.F32Const((float)Scale);
        int group = Heads / KvHeads;
        const int dotLanes = 8;
        b.For(begin, end, 1, item =>
        {
            var s = b.SDiv(item, t.I64Const(Heads));
            var h = b.SRem(item, t.I64Const(Heads));
            var kvh = b.SDiv(h, t.I64Const(group));
            var visible = b.Add(b.Add(past, s), t.I64Const(1));
            var qRow = b.Gep(t.F32, q, b.Mul(item, d));
            b.For(t.I64Const(0), visible, 1, j =>
            {
                var kRow = b.Gep(t.F32, keys, b.Add(b.Mul(j, kvRow), b.Mul(kvh, d)));
                var dot = DotProduct.OfFloats(b, qRow, kRow, dotLanes).Emit(b, dotLanes, HeadDim, HeadDim - HeadDim % dotLanes);
                b.Store(b.FMul(dot, scale), b.Gep(t.F32, scores, j), 4);
            });
            SoftmaxRow.Emit(b, scores, scores, visible);
            var outRow = b.Gep(t.F32, output, b.Mul(item, d));
            b.For(t.I64Const(0), d, 1, i => b.Store(t.F32Const(0), b.Gep(t.F32, outRow, i), 4));
            b.For(t.I64Const(0), visible, 1, j =>
            {
                var p = b.Load(t.F32, b.Gep(t.F32, scores, j), 4);
                var vRow = b.Gep(t.F32, values, b.Add(b.Mul(j, kvRow), b.Mul(kvh, d)));
                b.For(t.I64Const(0), d, 1, i =>
                {
                    var o = b.Gep(t.F32, outRow, i);
                    b.Store(b.Fma(b.Load(t.F32, b.Gep(t.F32, vRow, i), 4), p, b.Load(t.F32, o, 4)), o, 4);
                });
            });
        });
    });
}
