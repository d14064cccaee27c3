using System.Text.Json;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// Synthesises RTL with Yosys (Debian's package) for a Xilinx family (<c>synth_xilinx -family xcup -noiopad</c>:
/// a block inside a larger design, so no I/O buffers) and reads the cell counts from <c>stat -json</c>.
/// </summary>
public static class YosysSynthesis
{
    public const string Tool = "yosys";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    public static bool IsInstalled => ExternalTool.IsInstalled(Tool);

    public static ResourceReport Synthesize(IReadOnlyDictionary<string, string> rtl, string top, string family)
    {
        using var scratch = new RtlScratch(Tool, rtl);
        string stat = Path.Combine(scratch.Directory, "stat.json");
        string script = $"read_verilog -sv {string.Join(' ', scratch.Files)}; synth_xilinx -family {family} -noiopad -top {top}; tee -q -o {stat} stat -json";
        var result = ExternalTool.Run(Tool, "yosys", ["-q", "-p", script], Limit, scratch.Directory);
        if (result.ExitCode != 0 || !File.Exists(stat))
            throw new CodesignException($"yosys could not synthesise {top} for {family}: {(result.Error + result.Output).Trim()}");
        return ResourceReport.FromCells(ReadCells(stat));
    }

    private static Dictionary<string, long> ReadCells(string statJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(statJson));
            var cells = new Dictionary<string, long>(StringComparer.Ordinal);
            if (doc.RootElement.GetProperty("design").TryGetProperty("num_cells_by_type", out var byType))
                foreach (var p in byType.EnumerateObject()) cells[p.Name] = p.Value.GetInt64();
            return cells;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CodesignException($"{statJson}: not the stat -json output this codesign reads: {e.Message}");
        }
    }
}
