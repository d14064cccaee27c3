using System.Text.Json;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// Synthesises RTL with Yosys (Debian's package) for a Xilinx family (<c>synth_xilinx -family xcup -noiopad</c>:
/// a block inside a larger design, so no I/O buffers) and reads the cell counts from <c>stat -json</c> of the
/// flattened netlist (Yosys 0.23 writes a hierarchical design's stat with its module tree inside the JSON). The counts
/// are kept per machine by a hash of the sources, the top and the family: the whole accelerator takes minutes, and
/// models whose buffers are the same share its RTL.
/// </summary>
public static class YosysSynthesis
{
    public const string Tool = "yosys";

    /// <summary>How long one synthesis may take: the whole accelerator takes several minutes on two cores.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(60);

    public static bool IsInstalled => ExternalTool.IsInstalled(Tool);

    public static ResourceReport Synthesize(IReadOnlyDictionary<string, string> rtl, string top, string family, CancellationToken cancel = default)
    {
        string cache = Path.Combine(Path.GetTempPath(), "codesign-yosys", $"{top}-{family}-{RtlScratch.Key($"{top}\0{family}", rtl)}.json");
        if (File.Exists(cache)) return ResourceReport.FromCells(ReadCells(cache));
        using var scratch = new RtlScratch(Tool, rtl);
        string stat = Path.Combine(scratch.Directory, "stat.json");
        string script = $"read_verilog -sv {string.Join(' ', scratch.Files)}; synth_xilinx -family {family} -noiopad -top {top}; flatten; tee -q -o {stat} stat -json";
        var result = ExternalTool.Run(Tool, "yosys", ["-q", "-p", script], Limit, scratch.Directory, cancel: cancel);
        if (result.ExitCode != 0 || !File.Exists(stat))
            throw new CodesignException($"yosys could not synthesise {top} for {family}: {(result.Error + result.Output).Trim()}");
        var report = ResourceReport.FromCells(ReadCells(stat));
        Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
        string staging = $"{cache}.{Guid.NewGuid():N}";
        File.Copy(stat, staging);
        File.Move(staging, cache, overwrite: true);
        return report;
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
