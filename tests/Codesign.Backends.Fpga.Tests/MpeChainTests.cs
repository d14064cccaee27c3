using Codesign.Backends.Fpga.Engine;
using Codesign.Backends.Fpga.Rtl;
using Codesign.IR.Quantization;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The matrix-engine chain in Verilator against the reference interpreter's integer semantics
/// (<see cref="QMatMulKernel.IntegerGroupDots"/>): every group sum bit for bit, dense and sparse, on random odd
/// shapes, and its cycle count against the chain's timing.
/// </summary>
[Category("Verilator")]
public class MpeChainTests : RequiresVerilator
{
    private static readonly MpeChainConfig Chain = new();

    /// <summary>Activation codes as the interpreter's W·A8 path makes them from random f32 rows.</summary>
    private static int[] ActivationCodes(Random r, int m, int k)
    {
        var codes = new int[m * k];
        var x = RandomFloats(r, (long)m * k, 6);
        for (int row = 0; row < m; row++) ActivationQuantizer.QuantizeRow(x.AsSpan(row * k, k), codes.AsSpan(row * k, k), 8);
        return codes;
    }

    private static void AssertChainComputesTheGroupDots(MpeChainConfig chain, QuantizedMatrix w, bool[]? kept, int m, Random r, int expectRowsPerBeat)
    {
        var codes = ActivationCodes(r, m, w.Cols);
        var stream = MpeStreamMapper.Map(chain, w, kept, codes, m);
        Assert.That(stream.RowsPerBeat, Is.EqualTo(expectRowsPerBeat));
        var run = MpeChainHarness.Simulate(chain, stream);
        var expected = QMatMulKernel.IntegerGroupDots(codes, w, m);
        Assert.That(run.Sums, Has.Length.EqualTo(stream.Outputs.Count), "one output per group end");
        int checkedSums = 0;
        for (int o = 0; o < stream.Outputs.Count; o++)
            for (int j = 0; j < stream.RowsPerBeat; j++)
            {
                var slot = stream.Outputs[o][j];
                if (slot.Column < 0) continue;
                long want = expected[((long)slot.TokenRow * w.Rows + slot.Column) * w.Groups + slot.Group];
                Assert.That(run.Sums[o][j], Is.EqualTo(want), $"token {slot.TokenRow}, column {slot.Column}, group {slot.Group}");
                checkedSums++;
            }
        Assert.That(checkedSums, Is.EqualTo(m * w.Rows * w.Groups), "every group sum of the product was checked");
        Assert.That(run.Cycles, Is.EqualTo(stream.Beats.Count + MpeChainTiming.Latency - 1), "one beat per cycle, then the pipeline's latency");
    }

    [TestCase(4, 32, true), TestCase(4, 64, false), TestCase(2, 32, false), TestCase(3, 64, true), TestCase(8, 128, false), TestCase(8, 0, false)]
    public void A_dense_quantized_product_gives_the_interpreters_group_sums_bit_for_bit(int bits, int group, bool symmetric)
    {
        var r = Fresh();
        int n = 5 + 2 * r.Next(4), k = 37 + 2 * r.Next(60); // odd, and not multiples of the window
        var w = RandomMatrix(r, QuantScheme.Create(bits, group, symmetric, DType.F16), n, k);
        AssertChainComputesTheGroupDots(Chain, w, null, 2, r, expectRowsPerBeat: 1);
    }

    [Test]
    public void A_two_of_four_sparse_product_shares_each_beat_between_two_rows_and_gives_the_same_sums()
    {
        var r = Fresh();
        int n = 7, k = 4 * (20 + r.Next(20)); // N:M rows cover whole blocks of 4
        var w = RandomSparse(r, "nm_2_4", "q4g32", n, k);
        AssertChainComputesTheGroupDots(Chain, w.Quantized!, w.Kept, 3, r, expectRowsPerBeat: 2);
    }

    [Test]
    public void A_one_of_eight_sparse_product_runs_four_rows_per_beat_on_a_narrow_chain()
    {
        var r = Fresh();
        var chain = new MpeChainConfig(Lanes: 8, Window: 16, WeightBits: 9, AccBits: 24);
        int n = 9, k = 8 * (5 + r.Next(8));
        var w = RandomSparse(r, "nm_1_8", "q8g0", n, k); // per-channel 8-bit
        AssertChainComputesTheGroupDots(chain, w.Quantized!, w.Kept, 1, r, expectRowsPerBeat: 4);
    }
}
