using System.Runtime.Intrinsics.X86;

namespace Codesign.Backends.Cpu.Execution;

/// <summary>
/// The instruction-set extensions of the CPU we run on, by LLVM's feature names, as .NET's runtime reports them:
/// answered without LLVM, so a process running an ahead-of-time artifact can check the CPU it was built for.
/// Features .NET cannot report (e.g. f16c) are not listed in <see cref="Checkable"/> and are not checked.
/// </summary>
public static class CpuFeatures
{
    private static readonly Dictionary<string, bool> Known = new(StringComparer.Ordinal)
    {
        ["sse"] = Sse.IsSupported,
        ["sse2"] = Sse2.IsSupported,
        ["sse3"] = Sse3.IsSupported,
        ["ssse3"] = Ssse3.IsSupported,
        ["sse4.1"] = Sse41.IsSupported,
        ["sse4.2"] = Sse42.IsSupported,
        ["popcnt"] = Popcnt.IsSupported,
        ["avx"] = Avx.IsSupported,
        ["avx2"] = Avx2.IsSupported,
        ["fma"] = Fma.IsSupported,
        ["bmi"] = Bmi1.IsSupported,
        ["bmi2"] = Bmi2.IsSupported,
        ["lzcnt"] = Lzcnt.IsSupported,
        ["aes"] = System.Runtime.Intrinsics.X86.Aes.IsSupported,
        ["pclmul"] = Pclmulqdq.IsSupported,
        ["avxvnni"] = AvxVnni.IsSupported,
        ["avx512f"] = Avx512F.IsSupported,
        ["avx512bw"] = Avx512BW.IsSupported,
        ["avx512cd"] = Avx512CD.IsSupported,
        ["avx512dq"] = Avx512DQ.IsSupported,
        ["avx512vl"] = Avx512F.VL.IsSupported,
        ["avx512vbmi"] = Avx512Vbmi.IsSupported,
    };

    /// <summary>The feature names this class can answer for.</summary>
    public static IEnumerable<string> Checkable => Known.Keys;

    /// <summary>Whether this CPU has <paramref name="feature"/> (an LLVM name such as "avx2"); false for names it cannot check.</summary>
    public static bool Has(string feature) => Known.TryGetValue(feature, out bool has) && has;

    /// <summary>Of <paramref name="required"/> (LLVM names), those this CPU is known to lack.</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> required) =>
        required.Where(f => Known.TryGetValue(f, out bool has) && !has).ToArray();
}
