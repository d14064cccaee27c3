using System.Numerics;
using Codesign.Backends.Fpga.Isa;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>
/// What the matrix cores execute, in one place for the compiler (which matrices it stripes across the cores), the
/// functional model (which faults it raises) and the RTL's rendering (hdl-templates/accel_cores.sv.sbn checks the same).
/// </summary>
public static class MatrixCoreRules
{
    /// <summary>The N:M patterns the cores' sparse MUX wires: M = 2N with M of 4 or 8.</summary>
    public static bool TakesPattern(int n, int m) => (n, m) is (2, 4) or (4, 8);

    /// <summary>
    /// Why the cores cannot execute [n, k] weights of <paramref name="scheme"/> (N:M-sparse with <paramref name="sparsity"/>),
    /// or null: 2-, 3-, 4- or 8-bit codes (ternary included), dense or 2:4 and 4:8, K a multiple of 16 (a beat is whole
    /// bytes of codes and offsets), groups the whole row or a multiple of <paramref name="rotation"/> columns (beats start
    /// where the activation window's banks do). The buffers' sizes are checked against the design separately.
    /// </summary>
    public static string? Problem(QuantScheme scheme, SparseFormat? sparsity, int k, int rotation)
    {
        if (scheme.Bits is not (2 or 3 or 4 or 8)) return $"{scheme.Bits}-bit codes (the cores take 2, 3, 4 and 8)";
        if (sparsity is { } s && (s.Kind != SparseKind.NOfM || !TakesPattern(s.N, s.M))) return $"{s} sparsity (the cores take dense, 2:4 and 4:8)";
        if (k == 0 || k % 16 != 0) return $"K = {k} is not a multiple of 16";
        int group = scheme.GroupLength(k);
        if (group < k && group % rotation != 0) return $"groups of {group} columns are not multiples of the cores' {rotation}-column window banks";
        return null;
    }

    /// <summary>
    /// The rotation of the cores' activation window that lets every matrix of <paramref name="groups"/> (their group
    /// lengths below K) start its beats on a bank: the largest power of two up to half the lanes dividing them all, at least 16.
    /// </summary>
    public static int Rotation(AcceleratorShape shape, IEnumerable<int> groups)
    {
        int rotation = shape.Lanes / 2;
        foreach (int g in groups)
            while (rotation > 16 && g % rotation != 0) rotation /= 2;
        return rotation;
    }

    /// <summary>The rows core <paramref name="core"/> of <paramref name="cores"/> holds of an n-row matrix: from <c>core·⌈n/C⌉</c>, at most that many.</summary>
    public static (int First, int Count) Rows(int n, int cores, int core)
    {
        int each = (n + cores - 1) / cores, first = core * each;
        return (first, Math.Clamp(n - first, 0, each));
    }

    /// <summary>Codes a row keeps: all, or half under 2:4 and 4:8.</summary>
    public static int KeptPerRow(int k, bool sparse) => sparse ? k / 2 : k;

    internal static bool IsPowerOfTwo(int v) => v > 0 && BitOperations.IsPow2(v);

    /// <summary>The pattern bits' N and M of a core instruction's layout byte.</summary>
    public static (int N, int M) Pattern(CoreMatrixOperands o) => MatrixLayout.PatternOf(o.Layout);
}
