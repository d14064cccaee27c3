using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>One attention step: <see cref="Tokens"/> new queries after <see cref="Past"/> cached positions; GQA when KvHeads &lt; Heads.</summary>
internal readonly record struct AttentionShape(int Tokens, int Past, int Heads, int KvHeads, int HeadDim, float Scale, int Splits)
{
    public int KvHead(int head) => head / (Heads / KvHeads);
}

/// <summary>
/// Causal attention over the device KV cache ([capacity, kvHeads, headDim] per layer, keys and values apart): query s
/// sits at position Past + s and sees positions 0..Past + s. Decode uses split-K (flash-decoding: each group scores one
/// slice of the cache, a second kernel merges the slices' softmax statistics where there are several); prefill appends
/// its keys and values, then uses a flash-attention tiling
/// (a group owns a tile of queries, one per warp, and streams key/value tiles through shared memory with an online
/// softmax).
/// </summary>
internal static class AttentionKernels
{
    /// <summary>Cache positions one decode group scores.</summary>
    public const int SplitLength = 256;

    /// <summary>
    /// Prefill's append (decode's <see cref="DecodeSlices"/> appends its own row). One group per (token, kv head) row of
    /// the keys, then one per row of the values (one launch for both): copies the new row into its cache at <paramref name="destOffset"/>, keys turned by <paramref name="keyRope"/> where it applies,
    /// fake-quantized to kv_bits when <paramref name="qmax"/> &gt; 0 (per-row absmax, half-to-even, as
    /// <c>ActivationQuantizer</c> does).
    /// </summary>
    public static void AppendRows(ArrayView<float> keyRows, ArrayView<float> valueRows, ArrayView<float> keyCache, ArrayView<float> valueCache,
        long destOffset, int rowLength, int qmax, RotaryEmbedding keyRope, int kvHeads)
    {
        int keyGroups = Grid.DimX / 2;
        bool value = Grid.IdxX >= keyGroups;
        var rows = value ? valueRows : keyRows;
        var cache = value ? valueCache : keyCache;
        int row = value ? Grid.IdxX - keyGroups : Grid.IdxX;
        long start = (long)row * rowLength;
        bool rotate = !value && keyRope.Applies;
        float scale = 0f;
        if (qmax > 0)
        {
            float amax = 0f;
            for (int c = Group.IdxX; c < rowLength; c += Group.DimX)
                amax = XMath.Max(amax, XMath.Abs(rotate ? keyRope.At(rows, start, c, rowLength, row / kvHeads) : rows[start + c]));
            scale = Reductions.GroupMax(amax) / qmax;
        }
        for (int c = Group.IdxX; c < rowLength; c += Group.DimX)
        {
            float v = rotate ? keyRope.At(rows, start, c, rowLength, row / kvHeads) : rows[start + c];
            cache[destOffset + start + c] = qmax > 0 ? FakeQuantized(v, scale, qmax) : v;
        }
    }

    /// <summary>The cache's kv_bits rounding: half-to-even codes of <paramref name="scale"/>, clamped to ±qmax.</summary>
    private static float FakeQuantized(float v, float scale, int qmax)
    {
        int q = scale == 0f ? 0 : (int)XMath.RoundToEven(v / scale);
        return (q < -qmax ? -qmax : q > qmax ? qmax : q) * scale;
    }

    /// <summary>
    /// One token's attention. Grid: heads · splits groups; dynamic shared memory of <see cref="DecodeSharedFloats"/>.
    /// Writes per slice [max, Σexp, Σexp·v (headDim)] to <paramref name="partial"/> for <see cref="MergeSlices"/>; with
    /// one slice (a cache up to <see cref="SplitLength"/> long) the result itself to <paramref name="y"/>, which is what
    /// the merge would write (its weight exp(max − max) is exactly 1), and no merge is launched. The query, turned by
    /// <paramref name="rope"/> where it applies, is read once into shared memory.
    /// <para>
    /// The token's own key and value (<paramref name="newKeys"/>, <paramref name="newValues"/>: [1, kvHeads, headDim]) are
    /// not in the cache yet: the last slice's groups make them in shared memory as <see cref="AppendRows"/> would (the
    /// key turned by <paramref name="rope"/>, both fake-quantized when <paramref name="qmax"/> &gt; 0) and attend to them
    /// there, and the first head of each kv head writes them to the cache at position Past. So decode needs no append
    /// launch; the other groups read only positions before Past.
    /// </para>
    /// </summary>
    public static void DecodeSlices(ArrayView<float> q, ArrayView<float> newKeys, ArrayView<float> newValues, ArrayView<float> keys,
        ArrayView<float> values, ArrayView<float> partial, ArrayView<float> y, AttentionShape s, RotaryEmbedding rope, int qmax)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var scores = shared.SubView(0, SplitLength);
        int split = Grid.IdxX % s.Splits, head = Grid.IdxX / s.Splits, kvHead = s.KvHead(head), d = s.HeadDim;
        var qs = shared.SubView(SplitLength, d);
        var freshKey = shared.SubView(SplitLength + d, d);
        var freshValue = shared.SubView(SplitLength + 2L * d, d);
        int pos0 = split * SplitLength, count = s.Past + 1 - pos0 < SplitLength ? s.Past + 1 - pos0 : SplitLength;
        // The last slice holds position Past, the token's own.
        bool fresh = split == s.Splits - 1;
        int cached = fresh ? count - 1 : count;
        long qRow = (long)head * d, kvRow = (long)kvHead * d;
        for (int c = Group.IdxX; c < d; c += Group.DimX) qs[c] = rope.Applies ? rope.At(q, qRow, c, d, 0) : q[qRow + c];
        if (fresh)
        {
            float keyMax = 0f, valueMax = 0f;
            for (int c = Group.IdxX; c < d; c += Group.DimX)
            {
                float k = rope.Applies ? rope.At(newKeys, kvRow, c, d, 0) : newKeys[kvRow + c], v = newValues[kvRow + c];
                freshKey[c] = k;
                freshValue[c] = v;
                keyMax = XMath.Max(keyMax, XMath.Abs(k));
                valueMax = XMath.Max(valueMax, XMath.Abs(v));
            }
            if (qmax > 0)
            {
                float keyScale = Reductions.GroupMax(keyMax) / qmax, valueScale = Reductions.GroupMax(valueMax) / qmax;
                for (int c = Group.IdxX; c < d; c += Group.DimX)
                {
                    freshKey[c] = FakeQuantized(freshKey[c], keyScale, qmax);
                    freshValue[c] = FakeQuantized(freshValue[c], valueScale, qmax);
                }
            }
            if (head % (s.Heads / s.KvHeads) == 0)
            {
                long at = (long)s.Past * s.KvHeads * d + kvRow;
                for (int c = Group.IdxX; c < d; c += Group.DimX)
                {
                    keys[at + c] = freshKey[c];
                    values[at + c] = freshValue[c];
                }
            }
        }
        Group.Barrier();
        // A warp scores a key at a time, its lanes reading the key row's consecutive floats (coalesced) and summing by
        // shuffles; the loop and its test are uniform over the warp, as the shuffles need.
        int warps = Group.DimX / Warp.WarpSize, lane = Warp.LaneIdx;
        for (int j = Warp.WarpIdx; j < SplitLength; j += warps)
        {
            float score = float.NegativeInfinity;
            if (j < count)
            {
                long kRow = ((long)(pos0 + j) * s.KvHeads + kvHead) * d;
                bool own = j == cached;
                float dot = 0f;
                for (int c = lane; c < d; c += Warp.WarpSize) dot += qs[c] * (own ? freshKey[c] : keys[kRow + c]);
                score = Reductions.WarpSum(dot) * s.Scale;
            }
            if (Warp.IsFirstLane) scores[j] = score;
        }
        Group.Barrier();
        float max = float.NegativeInfinity;
        for (int j = Group.IdxX; j < SplitLength; j += Group.DimX) max = XMath.Max(max, scores[j]);
        max = Reductions.GroupMax(max);
        float sum = 0f;
        for (int j = Group.IdxX; j < SplitLength; j += Group.DimX)
        {
            float p = j < count ? XMath.Exp(scores[j] - max) : 0f;
            scores[j] = p;
            sum += p;
        }
        sum = Reductions.GroupSum(sum);
        long o = ((long)head * s.Splits + split) * (d + 2);
        // Σ p·v: with at least as many threads as dims, the threads split the keys into parts (thread t takes dim t mod d
        // of part t / d, so each part reads whole value rows, coalesced), and the parts add in order through shared
        // memory; with fewer, each thread takes dims t, t + threads, … over all keys.
        int parts = Group.DimX >= d ? Group.DimX / d : 1, thread = Group.IdxX;
        if (parts > 1)
        {
            var partSums = shared.SubView(SplitLength + 3L * d, (long)parts * d);
            int part = thread / d, c = thread - part * d;
            if (part < parts)
            {
                float acc = 0f;
                for (int j = part; j < cached; j += parts) acc += scores[j] * values[((long)(pos0 + j) * s.KvHeads + kvHead) * d + c];
                partSums[(long)part * d + c] = acc;
            }
            Group.Barrier();
        }
        for (int c = thread; c < d; c += Group.DimX)
        {
            float acc = 0f;
            if (parts > 1)
                for (int p = 0; p < parts; p++) acc += shared[SplitLength + 3L * d + (long)p * d + c];
            else
                for (int j = 0; j < cached; j++) acc += scores[j] * values[((long)(pos0 + j) * s.KvHeads + kvHead) * d + c];
            if (fresh) acc += scores[cached] * freshValue[c];
            if (s.Splits == 1) y[qRow + c] = acc / sum;
            else partial[o + 2 + c] = acc;
        }
        if (Group.IsFirstThread && s.Splits > 1)
        {
            partial[o] = max;
            partial[o + 1] = sum;
        }
    }

    /// <summary>Scores, the query, the token's own key and value, and the value pass's part sums (at most one per thread).</summary>
    public static int DecodeSharedFloats(int headDim, int groupSize) => SplitLength + 3 * headDim + groupSize;

    /// <summary>
    /// All the shared memory a decode group uses: the dynamic part, and at most a static scratch of
    /// <see cref="Reductions.MaxGroupSize"/> floats for each of its four group reductions.
    /// </summary>
    public static long DecodeSharedBytes(int headDim, int groupSize) =>
        (long)DecodeSharedFloats(headDim, groupSize) * sizeof(float) + 4L * Reductions.MaxGroupSize * sizeof(float);

    /// <summary>Grid: tokens · heads groups: merges the slices' statistics into y [tokens, heads, headDim].</summary>
    public static void MergeSlices(ArrayView<float> partial, ArrayView<float> y, AttentionShape s)
    {
        int queryHead = Grid.IdxX, d = s.HeadDim;
        long base0 = (long)queryHead * s.Splits * (d + 2);
        float max = float.NegativeInfinity;
        for (int j = 0; j < s.Splits; j++) max = XMath.Max(max, partial[base0 + (long)j * (d + 2)]);
        float sum = 0f;
        for (int j = 0; j < s.Splits; j++)
        {
            long o = base0 + (long)j * (d + 2);
            if (partial[o] > float.NegativeInfinity) sum += XMath.Exp(partial[o] - max) * partial[o + 1];
        }
        for (int c = Group.IdxX; c < d; c += Group.DimX)
        {
            float acc = 0f;
            for (int j = 0; j < s.Splits; j++)
            {
                long o = base0 + (long)j * (d + 2);
                if (partial[o] > float.NegativeInfinity) acc += XMath.Exp(partial[o] - max) * partial[o + 2 + c];
            }
            y[(long)queryHead * d + c] = acc / sum;
        }
    }

    /// <summary>
    /// Grid: ceil(tokens / warps per group) · heads groups; dynamic shared memory of <see cref="PrefillTiling.SharedFloats"/>.
    /// Warp w of a group owns query (tile · warps + w) of one head, its q and output row in shared memory; the group
    /// streams key/value tiles of <see cref="PrefillTiling.Keys"/> rows through shared memory. Per tile a lane scores
    /// keys (lane, lane + warp, …) against the warp's query, the warp combines the scores into its online softmax by
    /// shuffles, and then a lane updates the output dims (lane, lane + warp, …): every shared read is a broadcast or
    /// conflict-free (key rows are padded to headDim + 1 floats, so the lanes' rows fall in different banks). The query,
    /// turned by <paramref name="queryRope"/> where it applies, is read once.
    /// </summary>
    public static void Prefill(ArrayView<float> q, ArrayView<float> keys, ArrayView<float> values, ArrayView<float> y, AttentionShape s, PrefillTiling tiling,
        RotaryEmbedding queryRope)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int d = s.HeadDim, tk = tiling.Keys, keyStride = d + 1;
        int warps = Group.DimX / Warp.WarpSize, warp = Warp.WarpIdx, lane = Warp.LaneIdx, lanes = Warp.WarpSize;
        var kTile = shared.SubView(0, (long)tk * keyStride);
        var vTile = shared.SubView((long)tk * keyStride, (long)tk * d);
        long own = (long)tk * (keyStride + d);
        var qs = shared.SubView(own + (long)warp * d, d);
        var os = shared.SubView(own + (long)(warps + warp) * d, d);
        var ps = shared.SubView(own + 2L * warps * d + (long)warp * tk, tk);
        int tile = Grid.IdxX / s.Heads, head = Grid.IdxX % s.Heads, kvHead = s.KvHead(head);
        int token = tile * warps + warp;
        bool valid = token < s.Tokens;
        int lastToken = (tile + 1) * warps < s.Tokens ? (tile + 1) * warps : s.Tokens;
        int end = s.Past + lastToken, visible = s.Past + token + 1;
        long qRow = ((long)token * s.Heads + head) * d;
        if (valid)
            for (int c = lane; c < d; c += lanes)
            {
                qs[c] = queryRope.Applies ? queryRope.At(q, qRow, c, d, token) : q[qRow + c];
                os[c] = 0f;
            }
        float max = float.NegativeInfinity, sum = 0f;
        for (int j0 = 0; j0 < end; j0 += tk)
        {
            // The last tile's readers are done with it (and on the first, every warp's q is in place).
            Group.Barrier();
            for (int i = Group.IdxX; i < tk * d; i += Group.DimX)
            {
                int j = i / d, c = i - j * d, pos = j0 + j;
                long at = ((long)pos * s.KvHeads + kvHead) * d + c;
                kTile[j * keyStride + c] = pos < end ? keys[at] : 0f;
                vTile[i] = pos < end ? values[at] : 0f;
            }
            Group.Barrier();
            // Uniform over the warp (one query per warp), as its shuffles need; key j0 is visible, so tileMax is finite.
            if (valid && j0 < visible)
            {
                float tileMax = float.NegativeInfinity;
                for (int j = lane; j < tk; j += lanes)
                {
                    float score = float.NegativeInfinity;
                    if (j0 + j < visible)
                    {
                        float dot = 0f;
                        for (int c = 0; c < d; c++) dot += qs[c] * kTile[j * keyStride + c];
                        score = dot * s.Scale;
                    }
                    ps[j] = score;
                    tileMax = XMath.Max(tileMax, score);
                }
                float next = XMath.Max(max, Reductions.WarpMaxToAll(tileMax));
                float correction = XMath.Exp(max - next), part = 0f;
                for (int j = lane; j < tk; j += lanes)
                {
                    float p = j0 + j < visible ? XMath.Exp(ps[j] - next) : 0f;
                    ps[j] = p;
                    part += p;
                }
                sum = sum * correction + Reductions.WarpSumToAll(part);
                max = next;
                Warp.Barrier();
                int count = visible - j0 < tk ? visible - j0 : tk;
                for (int c = lane; c < d; c += lanes)
                {
                    float acc = os[c] * correction;
                    for (int j = 0; j < count; j++) acc += ps[j] * vTile[j * d + c];
                    os[c] = acc;
                }
            }
        }
        if (valid)
            for (int c = lane; c < d; c += lanes) y[qRow + c] = os[c] / sum;
    }
}
