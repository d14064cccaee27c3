using System.Buffers.Binary;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;

namespace Codesign.Backends.Fpga.Compilation;

/// <summary>
/// The constants the special-function unit reads from its parameter buffer, laid out in external memory by the
/// compiler: each rms_norm's eps (f64, as the interpreter adds it) and each attention's scale (f32), one 16-byte unit each,
/// and a rope table per (θ, head dim): for every position below the maximum context one row of head-dim/2 cosines
/// then head-dim/2 sines, computed exactly as the interpreter computes them (<see cref="RopeKernel"/>), so the
/// accelerator's rope is the interpreter's bit for bit.
/// </summary>
public sealed class ConstantRegion
{
    private readonly Dictionary<Node, long> _scalars;
    private readonly Dictionary<(double Theta, int HeadDim), long> _ropeTables;
    private readonly int _maxContext;

    private ConstantRegion(long baseUnit, long units, Dictionary<Node, long> scalars, Dictionary<(double, int), long> ropeTables, int maxContext)
    {
        Base = baseUnit;
        Units = units;
        _scalars = scalars;
        _ropeTables = ropeTables;
        _maxContext = maxContext;
    }

    public long Base { get; }
    public long Units { get; }

    public static ConstantRegion For(Graph graph, int maxContext, long baseUnit)
    {
        long next = baseUnit;
        var scalars = new Dictionary<Node, long>();
        var tables = new Dictionary<(double, int), long>();
        foreach (var node in graph.Nodes)
        {
            switch (node.Op)
            {
                case RmsNormOp or AttentionOp:
                    scalars[node] = next++;
                    break;
                case RopeOp rope:
                    var key = (rope.Theta, RopeHeadDim(node));
                    if (!tables.ContainsKey(key))
                    {
                        tables[key] = next;
                        next += FpgaMemoryPlan.UnitsOf((long)maxContext * RopeRowBytes(key.Item2));
                    }
                    break;
            }
        }
        return new ConstantRegion(baseUnit, next - baseUnit, scalars, tables, maxContext);
    }

    private static int RopeHeadDim(Node rope) => (int)rope.Outputs[0].Type.Shape[^1].Size;

    /// <summary>Bytes of one position's row of a rope table: head-dim/2 cosines then as many sines, f32.</summary>
    public static int RopeRowBytes(int headDim) => headDim / 2 * 2 * 4;

    /// <summary>The unit holding the eps of an rms_norm node or the scale of an attention node.</summary>
    public long Scalar(Node node) => _scalars[node];

    /// <summary>The rope table a rope node reads: its address and the bytes of one position's row.</summary>
    public (long Address, int RowBytes) RopeTable(Node rope)
    {
        int headDim = RopeHeadDim(rope);
        return (_ropeTables[(((RopeOp)rope.Op).Theta, headDim)], RopeRowBytes(headDim));
    }

    /// <summary>The region's bytes as they go into external memory at <see cref="Base"/>.</summary>
    public byte[] Bytes()
    {
        var bytes = new byte[Units * FpgaMemoryPlan.Unit];
        Span<byte> At(long unit, int index) => bytes.AsSpan(checked((int)((unit - Base) * FpgaMemoryPlan.Unit + index * 4L)));
        void Put(long unit, int index, float value) => BinaryPrimitives.WriteSingleLittleEndian(At(unit, index), value);
        foreach (var (node, unit) in _scalars)
        {
            if (node.Op is RmsNormOp norm) BinaryPrimitives.WriteDoubleLittleEndian(At(unit, 0), norm.Eps);
            else Put(unit, 0, (float)((AttentionOp)node.Op).Scale);
        }
        foreach (var ((theta, headDim), unit) in _ropeTables)
        {
            var invFreq = RopeKernel.InverseFrequencies(theta, headDim);
            int half = headDim / 2;
            var cos = new float[half];
            var sin = new float[half];
            for (int p = 0; p < _maxContext; p++)
            {
                RopeKernel.CosSin(p, invFreq, cos, sin);
                for (int i = 0; i < half; i++)
                {
                    Put(unit, p * headDim + i, cos[i]);
                    Put(unit, p * headDim + half + i, sin[i]);
                }
            }
        }
        return bytes;
    }
}
