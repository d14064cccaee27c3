using System.Globalization;
using System.Text;
using Codesign.Backends.Fpga.Engine;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Semantics;
using Codesign.IR.Types;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The matrix-engine chain followed by the dequantize-after-group unit, both in Verilator, give the interpreter's
/// W·A8 <c>quant.qmatmul</c> output (<see cref="QMatMulKernel.IntegerGroupAccumulate"/>) bit for bit.
/// </summary>
[Category("Verilator")]
public class GroupDequantTests : RequiresVerilator
{
    [TestCase(4, 32, false, null), TestCase(8, 0, true, null), TestCase(2, 64, false, null), TestCase(4, 32, false, "nm_2_4")]
    public void Chain_sums_scaled_per_group_give_the_interpreters_qmatmul_output_bit_for_bit(int bits, int group, bool symmetric, string? sparsity)
    {
        var r = Fresh();
        int m = 2, n = 5 + 2 * r.Next(4), k = 4 * (11 + r.Next(30));
        var sparse = sparsity is null ? null : RandomSparse(r, sparsity, $"q{bits}g{group}", n, k); // asymmetric codes, pruned ones at the zero point
        var w = sparse?.Quantized ?? RandomMatrix(r, QuantScheme.Create(bits, group, symmetric, DType.F16), n, k);
        var kept = sparse?.Kept;
        var x = RandomFloats(r, (long)m * k, 6);
        var actCodes = new int[m * k];
        var actScales = new float[m];
        for (int t = 0; t < m; t++) actScales[t] = ActivationQuantizer.QuantizeRow(x.AsSpan(t * k, k), actCodes.AsSpan(t * k, k), 8);

        var chain = new MpeChainConfig();
        var stream = MpeStreamMapper.Map(chain, w, kept, actCodes, m);
        var chainRun = MpeChainHarness.Simulate(chain, stream);
        var sums = new Dictionary<MpeOutputSlot, long>();
        for (int o = 0; o < stream.Outputs.Count; o++)
            for (int j = 0; j < stream.RowsPerBeat; j++)
                if (stream.Outputs[o][j].Column >= 0) sums[stream.Outputs[o][j]] = chainRun.Sums[o][j];

        var input = new StringBuilder();
        for (int t = 0; t < m; t++)
            for (int col = 0; col < n; col++)
                for (int gi = 0; gi < w.Groups; gi++)
                    input.Append(CultureInfo.InvariantCulture,
                        $"{(gi == 0 ? 1 : 0)} {(gi == w.Groups - 1 ? 1 : 0)} {sums[new MpeOutputSlot(t, col, gi)]} {BitConverter.SingleToUInt32Bits(w.Scale(col, gi)):x8} {BitConverter.SingleToUInt32Bits(actScales[t]):x8}\n");
        string exe = Verilator.Build(GroupDequantRtl.Render(), [Testbench("group_dequant_tb.cpp")], "group_dequant");
        var y = MpeChainHarness.RunTestbench(exe, input.ToString()).Select(l => uint.Parse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();

        var expected = QMatMulKernel.IntegerGroupAccumulate(x, w, m, 8);
        Assert.That(y, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < y.Length; i++)
            Assert.That(y[i], Is.EqualTo(BitConverter.SingleToUInt32Bits(expected[i])), $"token {i / n}, column {i % n}: {BitConverter.UInt32BitsToSingle(y[i]):R} vs {expected[i]:R}");
    }
}
