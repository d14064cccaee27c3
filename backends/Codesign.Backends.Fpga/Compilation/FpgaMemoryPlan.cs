using Codesign.Backends.Fpga.Cores;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Values;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// Per layer whose attention runs on the matrix cores: each round's key and value regions, at the same offset in every
/// core's channel (core g of round r holds kv head r·C + g; <see cref="CoreAttentionLayout"/>), and the system-memory
/// region of the values' scales, a row of <see cref="KvStride"/> f32 words a position.
/// </summary>
public sealed record CoreKvRegions(CoreAttentionLayout Layout, int KvHeads, long[] Keys, long[] Values, long ValueScales, int KvStride)
{
    /// <summary>The kv heads of each round: C, and the rest in the last.</summary>
    public int KvHeadsIn(int round, int cores) => Math.Min(cores, KvHeads - round * cores);

    /// <summary>Words a position's row of value scales takes: the kv heads rounded up to a 16-byte unit.</summary>
    public static int StrideFor(int kvHeads) => (kvHeads + 3) & ~3;
}

/// <summary>
/// Where a graph's data lives for the accelerator. Each matrix core's channel: every matrix the cores take
/// (<see cref="Cores"/>), the core's slice of its rows at the same offset in every channel (<see cref="CoreOffsets"/>,
/// 16-byte units, 64-byte aligned), then the int8 KV caches of the layers whose attention the cores run
/// (<see cref="CoreKv"/>). System memory (addresses in 16-byte units): every other weight in its
/// packed form; per attention layer on the binary32 engine a key and a value region of <see cref="MaxContext"/> f32
/// rows, per attention layer on the cores the values' scales; the constants
/// (<see cref="ConstantRegion"/>); then the I/O region, where the host writes a step's inputs and reads its outputs
/// (<see cref="Io"/>, room for <see cref="ChunkTokens"/> tokens each). On chip, the activation buffer (offsets in
/// 16-byte units) holds every activation of a step of up to <see cref="ChunkTokens"/> tokens, placed by liveness:
/// a value's space is reused after its last reader.
/// </summary>
public sealed class FpgaMemoryPlan
{
    public const int Unit = 16;

    private FpgaMemoryPlan(Dictionary<Value, long> external, Dictionary<int, (long Keys, long Values, int RowBytes)> kv, ConstantRegion constants,
        Dictionary<Value, long> io, Dictionary<Value, int> onChip, int onChipUnits, int maxContext, int chunkTokens, long externalUnits,
        CoreAssignment cores, Dictionary<Value, long> coreOffsets, long coreUnits, Dictionary<int, CoreKvRegions> coreKv)
    {
        CoreKv = coreKv;
        Cores = cores;
        CoreOffsets = coreOffsets;
        CoreUnits = coreUnits;
        External = external;
        Kv = kv;
        Constants = constants;
        Io = io;
        OnChip = onChip;
        OnChipUnits = onChipUnits;
        MaxContext = maxContext;
        ChunkTokens = chunkTokens;
        ExternalUnits = externalUnits;
    }

    public IReadOnlyDictionary<Value, long> External { get; }
    /// <summary>Which matrices run on the matrix cores, and the cores' design.</summary>
    public CoreAssignment Cores { get; }
    /// <summary>Each core-resident weight's offset in every core's channel (16-byte units).</summary>
    public IReadOnlyDictionary<Value, long> CoreOffsets { get; }
    /// <summary>Per attention layer the cores run: its cache's regions.</summary>
    public IReadOnlyDictionary<int, CoreKvRegions> CoreKv { get; }
    /// <summary>The 16-byte units each core's channel holds.</summary>
    public long CoreUnits { get; }
    /// <summary>Per attention layer: the key and value regions and the bytes of one token's row (all KV heads, f32).</summary>
    public IReadOnlyDictionary<int, (long Keys, long Values, int RowBytes)> Kv { get; }
    public ConstantRegion Constants { get; }
    /// <summary>The external address of each graph input and output in the I/O region (token rows of 32-bit words).</summary>
    public IReadOnlyDictionary<Value, long> Io { get; }
    public IReadOnlyDictionary<Value, int> OnChip { get; }
    public int OnChipUnits { get; }
    public int MaxContext { get; }
    public int ChunkTokens { get; }
    public long ExternalUnits { get; }

    /// <summary>16-byte units of <paramref name="bytes"/>, rounded up.</summary>
    public static long UnitsOf(long bytes) => (bytes + Unit - 1) / Unit;

    /// <summary>Elements of one token's row of an activation (its shape after the leading token axis).</summary>
    public static long PerTokenElements(Value v) => v.Type.Shape.Skip(1).Aggregate(1L, (a, d) => a * d.Size);

    /// <summary>Where a core-resident weight's slices start: 64 bytes, the widest beat, so a slice starts on a beat.</summary>
    public const int CoreAlignmentUnits = 4;

    /// <param name="weightBytes">Bytes of a weight in its packed form (from the weight store, or estimated).</param>
    /// <param name="cores">Which matrices the cores take; by default as many as one 16-byte core does.</param>
    public static FpgaMemoryPlan For(Graph graph, Func<Value, long> weightBytes, int maxContext, int chunkTokens, CoreAssignment? cores = null)
    {
        cores ??= CoreAssignment.For(graph, AcceleratorShape.Minimal, maxContext);
        var onCores = cores.Nodes.Select(n => n.Inputs[1]).ToHashSet();
        // a weight read elsewhere too (a tied embedding) also lives in system memory
        var elsewhere = graph.Nodes.Where(n => !cores.Takes(n)).SelectMany(n => n.Inputs).Where(v => v.Kind == ValueKind.Weight).ToHashSet();
        var coreOffsets = new Dictionary<Value, long>();
        long coreNext = 0;
        foreach (var w in graph.Weights.Where(onCores.Contains))
        {
            coreOffsets[w] = coreNext;
            coreNext += Aligned(UnitsOf(cores.SliceBytes(w)));
        }
        var coreKvLayout = new Dictionary<int, (CoreAttentionLayout, int, long[], long[])>();
        foreach (var node in cores.AttentionNodes.OrderBy(n => ((AttentionOp)n.Op).Layer))
        {
            var k = node.Inputs[1].Type;
            int kvHeads = (int)k.Shape[^2].Size, rounds = (kvHeads + cores.Design.Cores - 1) / cores.Design.Cores;
            var layout = new CoreAttentionLayout(cores.AttentionCapacity, (int)k.Shape[^1].Size);
            long[] keys = new long[rounds], values = new long[rounds];
            for (int r = 0; r < rounds; r++)
            {
                keys[r] = coreNext;
                coreNext += Aligned(UnitsOf(layout.KeyRegionBytes));
                values[r] = coreNext;
                coreNext += Aligned(UnitsOf(layout.ValueRegionBytes));
            }
            coreKvLayout[(int)((AttentionOp)node.Op).Layer] = (layout, kvHeads, keys, values);
        }
        long next = 0;
        var external = new Dictionary<Value, long>();
        foreach (var w in graph.Weights.Where(w => !onCores.Contains(w) || elsewhere.Contains(w)))
        {
            external[w] = next;
            next += UnitsOf(weightBytes(w));
        }
        var kv = new Dictionary<int, (long, long, int)>();
        var coreKv = new Dictionary<int, CoreKvRegions>();
        foreach (var (layer, (layout, kvHeads, keys, values)) in coreKvLayout)
        {
            int stride = CoreKvRegions.StrideFor(kvHeads);
            coreKv[layer] = new CoreKvRegions(layout, kvHeads, keys, values, next, stride);
            next += UnitsOf((long)layout.Capacity * stride * 4);
        }
        foreach (var node in graph.Nodes.Where(n => n.Op is AttentionOp && !cores.TakesAttention(n)))
        {
            var k = node.Inputs[1].Type;
            int rowBytes = checked((int)(k.Shape[^2].Size * k.Shape[^1].Size * 4));
            if (rowBytes % Unit != 0) throw new CodesignException($"fpga: layer {((AttentionOp)node.Op).Layer}: a KV row of {rowBytes} bytes is not a multiple of {Unit}");
            long region = (long)maxContext * rowBytes / Unit;
            kv[(int)((AttentionOp)node.Op).Layer] = (next, next + region, rowBytes);
            next += 2 * region;
        }
        var constants = ConstantRegion.For(graph, maxContext, next);
        next += constants.Units;
        var io = new Dictionary<Value, long>();
        foreach (var v in graph.Inputs.Concat(graph.Outputs).Distinct())
        {
            io[v] = next;
            next += UnitsOf(PerTokenElements(v) * 4 * chunkTokens);
        }

        // Liveness over node order; a reshape is a view of its input, so a value and its views share one place,
        // freed after the last reader of any of them. Each value takes its per-token row size times the chunk.
        var root = new Dictionary<Value, Value>();
        Value Root(Value v) => root.TryGetValue(v, out var r) ? r : v;
        foreach (var node in graph.Nodes.Where(n => n.Op is ReshapeOp)) root[node.Outputs[0]] = Root(node.Inputs[0]);
        var lastUse = new Dictionary<Value, int>();
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var v in graph.Nodes[i].Inputs) lastUse[Root(v)] = i;
        foreach (var o in graph.Outputs) lastUse[Root(o)] = int.MaxValue;
        var onChip = new Dictionary<Value, int>();
        var free = new List<(int Offset, int Size)>();
        int top = 0;
        int Allocate(int size)
        {
            int best = free.FindIndex(f => f.Size >= size);
            if (best < 0)
            {
                top += size;
                return top - size;
            }
            var f = free[best];
            free.RemoveAt(best);
            if (f.Size > size) free.Add((f.Offset + size, f.Size - size));
            return f.Offset;
        }
        int Units(Value v) => checked((int)UnitsOf(PerTokenElements(v) * 4 * chunkTokens));
        foreach (var input in graph.Inputs) onChip[input] = Allocate(Units(input));
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            foreach (var output in node.Outputs)
                onChip[output] = node.Op is ReshapeOp ? onChip[node.Inputs[0]] : Allocate(Units(output));
            foreach (var v in node.Inputs.Select(Root).Distinct())
                if (v.Kind != ValueKind.Weight && lastUse[v] == i) free.Add((onChip[v], Units(v)));
        }
        if (top > ushort.MaxValue)
            throw new CodesignException($"fpga: a step of {chunkTokens} tokens needs {(long)top * Unit} bytes of on-chip activations; the buffer addresses {(ushort.MaxValue + 1L) * Unit}");
        return new FpgaMemoryPlan(external, kv, constants, io, onChip, top, maxContext, chunkTokens, next, cores, coreOffsets, coreNext, coreKv);
    }

    private static long Aligned(long units) => (units + CoreAlignmentUnits - 1) / CoreAlignmentUnits * CoreAlignmentUnits;
}
