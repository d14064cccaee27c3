using Codesign.Backends.Fpga.Numerics;

namespace Codesign.Backends.Fpga.Rtl;

/// <summary>The special-function unit's exponential (<c>fp32_exp</c>), rendered with <see cref="Fp32Exp"/>'s constants and table.</summary>
public static class Fp32ExpRtl
{
    public static string Render(string moduleName = "fp32_exp") => RtlTemplates.Render("fp32_exp", new Dictionary<string, object>
    {
        ["module_name"] = moduleName,
        ["log2e"] = Fp32Exp.Log2E,
        ["ln2"] = Fp32Exp.Ln2,
        ["table"] = Fp32Exp.Table,
    });
}
