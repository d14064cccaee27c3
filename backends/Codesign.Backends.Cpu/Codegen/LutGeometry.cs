using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Backends.Cpu.Codegen;

/// <summary>
/// How the cpu's LUT-mpGEMM lays out one weight [N, K] and one token's tables, shared by the load-time weight
/// permutation and the kernels.
/// <list type="bullet">
/// <item>Rows go in blocks of 8. A block's codes are a stream of 32-byte units, group by group; a unit is one
/// 256-bit load holding 64 nibble indices. Byte L of a unit: half h = L / 16 (which run of a run pair), row
/// (L % 16) / 2, plane pair member L % 2. With 4 planes a unit is one run pair: low nibbles planes 0–1, high
/// nibbles planes 2–3. With 2 planes a unit is two run pairs: low nibbles the first, high nibbles the second.</item>
/// <item>Each quant group is padded with zero activations to whole units (8 or 16 activations), which leaves
/// every result unchanged: a zero run's table is all zeros and does not move ts.</item>
/// <item>A token's tables: for each group, for each run, the 8 stored int8 entries.</item>
/// </list>
/// </summary>
public sealed record LutGeometry(int Planes, int K, int GroupLength)
{
    public const int RowsPerBlock = 8;
    public const int UnitBytes = 32;

    public static LutGeometry For(QuantScheme scheme, int k) => new(LutMpGemmKernel.Planes(scheme), k, scheme.GroupLength(k));

    public int Groups => (K + GroupLength - 1) / GroupLength;
    public int LastGroupLength => K - (Groups - 1) * GroupLength;
    /// <summary>Activations one unit covers: 2 runs with 4 planes, 4 runs with 2.</summary>
    public int UnitActivations => Planes == 4 ? 8 : 16;
    public int RunsPerUnit => UnitActivations / LutMpGemmKernel.RunLength;
    public int UnitsPerGroup => (GroupLength + UnitActivations - 1) / UnitActivations;
    public int UnitsInLastGroup => (LastGroupLength + UnitActivations - 1) / UnitActivations;
    public int TotalUnits => (Groups - 1) * UnitsPerGroup + UnitsInLastGroup;
    public int RunsPerGroup => UnitsPerGroup * RunsPerUnit;
    public int RunsInLastGroup => UnitsInLastGroup * RunsPerUnit;

    public long BlockBytes => (long)TotalUnits * UnitBytes;
    public long GroupWeightBytes => (long)UnitsPerGroup * UnitBytes;
    public int UnitTableBytes => RunsPerUnit * LutMpGemmKernel.StoredEntries;
    public long GroupTableBytes => (long)UnitsPerGroup * UnitTableBytes;
    public long TableBytesPerToken => (long)TotalUnits * UnitTableBytes;

    public static int RowBlocks(long n) => checked((int)((n + RowsPerBlock - 1) / RowsPerBlock));

    /// <summary>
    /// Units summed in 16-bit lanes before widening: a lane gains at most 127·(2^B − 1) per unit with 4 planes
    /// and 127·2·3 with 2 (two runs), so this many units never overflow; the divisor of the group's unit count
    /// keeps the loop nest exact.
    /// </summary>
    public int UnitsPerFlush(int units)
    {
        int laneGain = LutMpGemmKernel.TableMax * (Planes == 4 ? 15 : 6);
        int limit = short.MaxValue / laneGain;
        for (int f = Math.Min(limit, units); f > 1; f--)
            if (units % f == 0) return f;
        return 1;
    }

    /// <summary>maddubs multipliers of the low and high nibble registers: 2^plane of each byte of a pair.</summary>
    public (int Even, int Odd) LowMultipliers => (1, 2);
    public (int Even, int Odd) HighMultipliers => Planes == 4 ? (4, 8) : (1, 2);
}
