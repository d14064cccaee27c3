using System.Text.Json;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// Synthesises RTL with Yosys (Debian's package) for a Xilinx family (<c>synth_xilinx -family xcup -noiopad</c>:
/// a block inside a larger design, so no I/O buffers) and reads the cell counts from <c>stat -json</c> of the
/// flattened netlist (Yosys 0.23 writes a hierarchical design's stat with its module tree inside the JSON), and the
/// deepest register-to-register path of each unit from the same netlist (<see cref="LogicDepth"/>). Both are kept per
/// machine by a hash of the sources, the top and the family: the whole accelerator takes minutes, and models whose
/// buffers are the same share its RTL.
/// </summary>
public static class YosysSynthesis
{
    public const string Tool = "yosys";

    /// <summary>How long one synthesis may take: the whole accelerator takes several minutes on two cores.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(60);

    public static bool IsInstalled => ExternalTool.IsInstalled(Tool);

    public static ResourceReport Synthesize(IReadOnlyDictionary<string, string> rtl, string top, string family, CancellationToken cancel = default)
    {
        // the salt names what a cached result holds: the counts and, where the netlist was walked, its depth
        string cache = Path.Combine(Path.GetTempPath(), "codesign-yosys", $"{top}-{family}-{RtlScratch.Key($"{top}\0{family}\0depth-3", rtl)}.json");
        string depthCache = Path.ChangeExtension(cache, ".depth.json");
        if (File.Exists(cache)) return ResourceReport.FromCells(ReadCells(cache)) with { Depth = ReadDepth(depthCache) };
        using var scratch = new RtlScratch(Tool, rtl);
        string stat = Path.Combine(scratch.Directory, "stat.json"), netlist = Path.Combine(scratch.Directory, "netlist.json");
        // the netlist without source locations: they are most of its size
        string script = $"read_verilog -sv {string.Join(' ', scratch.Files)}; synth_xilinx -family {family} -noiopad -top {top}; flatten; tee -q -o {stat} stat -json; "
            + $"setattr -unset src; opt_clean -purge; write_json {netlist}";
        var result = ExternalTool.Run(Tool, "yosys", ["-q", "-p", script], Limit, scratch.Directory, cancel: cancel);
        if (result.ExitCode != 0 || !File.Exists(stat) || !File.Exists(netlist))
            throw new CodesignException($"yosys could not synthesise {top} for {family}: {(result.Error + result.Output).Trim()}");
        // a design too large to walk in memory keeps its counts, without a depth
        var depth = LogicDepth.FromNetlist(netlist);
        var report = ResourceReport.FromCells(ReadCells(stat)) with { Depth = depth };
        Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
        if (depth is not null)
        {
            string depthFile = Path.Combine(scratch.Directory, "depth.json");
            File.WriteAllText(depthFile, JsonSerializer.Serialize(depth));
            Publish(depthFile, depthCache);
        }
        // the counts last: a reader that finds them finds the depth already there
        Publish(stat, cache);
        return report;
    }

    /// <summary>Copies a result into the cache under a fresh name, then renames it, so a reader never sees half a file.</summary>
    private static void Publish(string file, string cached)
    {
        string staging = $"{cached}.{Guid.NewGuid():N}";
        File.Copy(file, staging);
        File.Move(staging, cached, overwrite: true);
    }

    /// <summary>The cached logic depth, or null where the netlist was not walked (or the file is not this version's).</summary>
    private static LogicDepth? ReadDepth(string path)
    {
        try
        {
            return File.Exists(path) && JsonSerializer.Deserialize<LogicDepth>(File.ReadAllText(path)) is { LevelsByUnit: not null, PathByUnit: not null } depth ? depth : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException)
        {
            return null;
        }
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
