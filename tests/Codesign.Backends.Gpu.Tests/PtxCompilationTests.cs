using System.Text.RegularExpressions;
using Codesign.Backends.Gpu.Diagnostics;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// Every kernel through ILGPU's CUDA backend for Hopper, on a machine without a GPU: CI has none, and a kernel that only
/// fails when compiled to PTX would otherwise first fail on a lent GPU. The bandwidth-bound decode GEMV is also checked
/// for the instructions it was written to produce.
/// </summary>
public class PtxCompilationTests
{
    private static readonly Lazy<PtxListing> Listing = new(() => new PtxListing());
    private static readonly Dictionary<string, System.Reflection.MethodInfo> Kernels = PtxListing.Kernels().ToDictionary(k => k.Name, k => k.Method);

    public static IEnumerable<string> KernelNames() => PtxListing.Kernels().Select(k => k.Name);

    private static string Ptx(string kernel)
    {
        lock (Listing) return Listing.Value.Compile(Kernels[kernel]);
    }

    private static IEnumerable<string> Instructions(string ptx) =>
        ptx.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("//") && !l.StartsWith('.') && !l.EndsWith(':'));

    [Test]
    public void The_listing_finds_every_kind_of_kernel()
    {
        var names = KernelNames().ToList();
        Assert.That(names, Does.Contain("LinearKernels.Gemv<QuantizedRows>").And.Contain("LinearKernels.Gemm<EllRows>")
            .And.Contain("WordCodeGemv.Gemv<FourBitCodes>").And.Contain("AttentionKernels.Prefill").And.Contain("CopyKernel.Copy"));
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(30));
        Assert.That(names.Where(n => n.StartsWith("RowGroupReduction.") || n.StartsWith("Reductions.")), Is.Empty, "helpers are not kernels");
    }

    [TestCaseSource(nameof(KernelNames))]
    public void Compiles_to_ptx_with_every_memory_access_in_a_named_state_space(string kernel)
    {
        string ptx = Ptx(kernel);
        Assert.That(ptx, Does.Contain(".entry "), "an entry point");
        // A generic ld/st (no .global, .shared, .param, .local) costs an address-space check on every access.
        var generic = Instructions(ptx).Where(i => Regex.IsMatch(i, @"^(@!?%p\d+\s+)?(ld|st)\.(?!global|shared|param|local)")).ToList();
        Assert.That(generic, Is.Empty, string.Join("\n", generic.Take(5)));
    }

    public static IEnumerable<string> MatrixKernelNames() =>
        KernelNames().Where(n => n.StartsWith("LinearKernels.") || n.StartsWith("WordCodeGemv.") || n.StartsWith("DenseF16Gemv.") || n.StartsWith("LutKernels.Gemv"));

    /// <summary>An f64 instruction in a matrix kernel is a C# conversion gone wide (uint minus float is double): f64 runs
    /// at a fraction of the f32 rate on most GPUs.</summary>
    [TestCaseSource(nameof(MatrixKernelNames))]
    public void Matrix_kernels_compute_in_f32_only(string kernel)
    {
        var wide = Instructions(Ptx(kernel)).Where(i => i.Contains(".f64")).ToList();
        Assert.That(wide, Is.Empty, string.Join("\n", wide.Take(5)));
    }

    [TestCase("OneBitCodes"), TestCase("TwoBitCodes"), TestCase("FourBitCodes"), TestCase("EightBitCodes")]
    public void The_word_code_gemv_loads_x_in_quads_and_dequantizes_without_conversions_or_f64(string width)
    {
        var instructions = Instructions(Ptx($"WordCodeGemv.Gemv<{width}>")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(instructions, Has.Some.StartsWith("ld.global.v4.f32"), "x in 16-byte quads");
            Assert.That(instructions, Has.Some.StartsWith("ld.global.b32").Or.Some.StartsWith("ld.global.u32"), "codes a 32-bit word per thread");
            Assert.That(instructions.Where(i => Regex.IsMatch(i, @"^cvt\.rn\.f32\.[su]\d+")), Is.Empty, "no int-to-float conversion (the codes go through the 2^23 mantissa)");
            Assert.That(instructions.Where(i => i.Contains(".f64")), Is.Empty, "no f64 arithmetic");
        });
    }

    [Test]
    public void The_f16_gemv_reads_weights_and_x_in_16_byte_loads()
    {
        var instructions = Instructions(Ptx("DenseF16Gemv.Gemv")).ToList();
        Assert.That(instructions, Has.Some.Match(@"^ld\.global\.v4\.(b32|u32)"), "8 halves a load");
        Assert.That(instructions, Has.Some.StartsWith("ld.global.v4.f32"), "x in quads");
    }
}
