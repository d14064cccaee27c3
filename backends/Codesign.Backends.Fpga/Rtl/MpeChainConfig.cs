using System.Numerics;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Rtl;

/// <summary>
/// The shape of one matrix-engine chain (<c>hdl-templates/mpe_chain.sv.sbn</c>): <see cref="Lanes"/> multipliers,
/// a window of <see cref="Window"/> int8 activations they select from, signed weights of <see cref="WeightBits"/>
/// (code − zero: 9 bits hold every asymmetric 8-bit code) and accumulators of <see cref="AccBits"/>.
/// </summary>
public sealed record MpeChainConfig(int Lanes = 16, int Window = 16, int WeightBits = 9, int AccBits = 32)
{
    public int Levels => BitOperations.Log2((uint)Lanes);
    public int SelBits => BitOperations.Log2((uint)Window);
    /// <summary>Bits of the seg_log2 port, which takes 0..<see cref="Levels"/>.</summary>
    public int SegBits => Math.Max(1, BitOperations.Log2((uint)Levels) + 1);

    public MpeChainConfig Checked()
    {
        if (Lanes is < 2 or > 256 || !BitOperations.IsPow2(Lanes)) throw new CodesignException($"mpe chain: lanes {Lanes} must be a power of two from 2 to 256");
        if (Window is < 2 or > 256 || !BitOperations.IsPow2(Window)) throw new CodesignException($"mpe chain: window {Window} must be a power of two from 2 to 256");
        if (WeightBits is < 2 or > 16) throw new CodesignException($"mpe chain: weight_bits {WeightBits} must be 2 to 16");
        if (AccBits < 8 + WeightBits + Levels || AccBits > 64) throw new CodesignException($"mpe chain: acc_bits {AccBits} must hold a full beat ({8 + WeightBits + Levels} bits) and be at most 64");
        return this;
    }

    public string Render(string moduleName = "mpe_chain")
    {
        Checked();
        return RtlTemplates.Render("mpe_chain", new Dictionary<string, object>
        {
            ["module_name"] = moduleName,
            ["lanes"] = Lanes,
            ["window"] = Window,
            ["weight_bits"] = WeightBits,
            ["acc_bits"] = AccBits,
            ["levels"] = Levels,
            ["sel_bits"] = SelBits,
            ["seg_bits"] = SegBits,
        });
    }
}
