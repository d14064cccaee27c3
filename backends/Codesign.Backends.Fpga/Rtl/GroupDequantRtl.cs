namespace Codesign.Backends.Fpga.Rtl;

/// <summary>
/// The dequantize-after-group unit (<c>group_dequant</c>) and the binary32 units it is built from (<c>fp32_mul</c>,
/// <c>fp32_add</c>, <c>int_to_fp32</c>): file name to Verilog, module names prefixed by <paramref name="prefix"/>.
/// </summary>
public static class GroupDequantRtl
{
    public static readonly string[] FloatUnits = ["fp32_mul", "fp32_add", "int_to_fp32"];

    public static Dictionary<string, string> Render(string prefix = "")
    {
        var files = FloatUnits.ToDictionary(u => $"{prefix}{u}.sv", u => RtlTemplates.Render(u, new Dictionary<string, object> { ["module_name"] = prefix + u }));
        files[$"{prefix}group_dequant.sv"] = RtlTemplates.Render("group_dequant", new Dictionary<string, object> { ["module_name"] = prefix + "group_dequant", ["prefix"] = prefix });
        return files;
    }
}
