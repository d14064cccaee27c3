using Codesign.Backends.Gpu.Kernels;
using Codesign.IR.Ops;
using Codesign.IR.Quantization;
using Codesign.IR.Types;
using static Codesign.Backends.Gpu.Tests.GpuHarness;
using static Codesign.Testing.RandomTensors;

namespace Codesign.Backends.Gpu.Tests;

/// <summary>
/// The decode GEMV for word-aligned codes (1, 2, 4, 8 bits; groups a power of two of words, or per channel) against
/// the interpreter: row counts no group of rows divides, K odd (x read without quads, a partial last word) and K a
/// multiple of 4 that is not of the codes per word (quads and a partial last word), one to four tokens.
/// </summary>
public class WordCodeGemvTests
{
    public static IEnumerable<TestCaseData> Shapes()
    {
        var schemes = new[]
        {
            QuantScheme.Create(1, 64, false, DType.F16), QuantScheme.Create(2, 16, true, DType.F16), QuantScheme.Create(2, 64, false, DType.F16),
            QuantScheme.Create(4, 8, false, DType.F16), QuantScheme.Create(4, 128, false, DType.F16), QuantScheme.Create(4, 0, true, DType.F16),
            QuantScheme.Create(8, 4, true, DType.F16), QuantScheme.Create(8, 32, false, DType.F16), QuantScheme.Create(2, 32, true, DType.F32, ternary: true),
        };
        foreach (var scheme in schemes)
            foreach (var (n, k, tokens) in new[] { (7, 203, 1), (9, 212, 3), (5, 1001, 4), (13, 1036, 2) })
                yield return new TestCaseData(scheme, n, k, tokens);
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesTheInterpreter(QuantScheme scheme, int n, int k, int tokens)
    {
        Assert.That(WordCodeGemv.GroupWordShift(scheme.Bits, scheme.GroupLength(k), scheme.GroupCount(k)), Is.GreaterThanOrEqualTo(0), "the word kernel takes this scheme");
        var r = Fresh();
        var (gpu, reference) = RunLinear(new QMatMulOp(), RandomMatrix(r, scheme, n, k), RandomFloats(r, (long)tokens * k), tokens);
        AssertClose(gpu, reference, 1e-5);
    }

    [TestCase(3, 64, 100), TestCase(4, 48, 96), TestCase(4, 24, 96), TestCase(8, 12, 96), TestCase(5, 32, 64)]
    public void LeavesFormatsThatAreNotWholeWordsToTheGenericKernel(int bits, int group, int k)
    {
        var scheme = QuantScheme.Create(bits, group, true, DType.F16);
        Assert.That(WordCodeGemv.GroupWordShift(bits, scheme.GroupLength(k), scheme.GroupCount(k)), Is.EqualTo(-1));
    }

    [Test]
    public void GivesEachThreadAtLeastFourWordsWithinTheGroupSize()
    {
        Assert.Multiple(() =>
        {
            Assert.That(WordCodeGemv.Threads(4096, 4, 32, 256), Is.EqualTo(128), "512 words");
            Assert.That(WordCodeGemv.Threads(11008, 4, 32, 256), Is.EqualTo(256), "1376 words");
            Assert.That(WordCodeGemv.Threads(100, 4, 32, 256), Is.EqualTo(32), "never below a warp");
            Assert.That(WordCodeGemv.Threads(203, 4, 4, 16), Is.EqualTo(4), "26 words: 8 threads would have 3 each");
        });
    }
}
