using System.Text.Json;
using System.Text.RegularExpressions;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// The deepest register-to-register path of each unit of a design that Yosys' <c>synth_xilinx</c> mapped and flattened,
/// in LUT levels, read from its <c>write_json</c> netlist. A path starts at a register's output (flip-flops, block and
/// Ultra RAM, shift registers, a DSP slice with any pipeline register) and ends at a register's input or a distributed
/// RAM's write data or enable (its read, address to data, is one level on the path); each cell on it
/// adds its weight (<see cref="Weight"/>): a LUT one level (the LUT and the net into it), the wide-function multiplexers
/// a quarter (in the slice, no general routing), a carry block half a level where a chain starts and a tenth for each
/// block the chain continues into, a DSP slice without registers four (DS923 gives an unregistered DSP48E2 410 MHz at
/// -2 against 775 with every register), inverters none (Vivado folds them into the LUTs). A path belongs to the unit
/// of the register it ends at: the instance path in the flattened cell's name (<c>u_sfu.u_softmax</c>), or "(top)";
/// <see cref="PathByUnit"/> lists the units that path crosses, from the one it starts in ("(input)": a port of the
/// design) to the unit itself, which is where pipeline registers would cut it.
/// </summary>
public sealed record LogicDepth(IReadOnlyDictionary<string, double> LevelsByUnit, IReadOnlyDictionary<string, IReadOnlyList<string>> PathByUnit)
{
    /// <summary>The design's deepest path in LUT levels (0 for a design with no register-to-register logic).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double Deepest => LevelsByUnit.GetValueOrDefault(DeepestUnit);

    /// <summary>The unit whose path is <see cref="Deepest"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string DeepestUnit => LevelsByUnit.Count == 0 ? "(none)" : LevelsByUnit.MaxBy(kv => kv.Value).Key;

    /// <summary>The largest netlist <see cref="FromNetlist"/> reads: it holds the whole document in memory.</summary>
    public const long MaxNetlistBytes = 1L << 30;

    /// <summary>
    /// Reads a Yosys JSON netlist (one flattened top module; the cell library's blackboxes beside it), or null for one
    /// over <see cref="MaxNetlistBytes"/>: a design too large to walk in memory is not measured.
    /// </summary>
    public static LogicDepth? FromNetlist(string jsonPath)
    {
        try
        {
            using var stream = File.OpenRead(jsonPath);
            if (stream.Length > MaxNetlistBytes) return null;
            using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
            var top = doc.RootElement.GetProperty("modules").EnumerateObject()
                .Where(m => m.Value.TryGetProperty("attributes", out var a) && a.TryGetProperty("top", out _))
                .Select(m => m.Value).ToList();
            if (top.Count != 1) throw new CodesignException($"{jsonPath}: {top.Count} top modules; the analysis reads one flattened top");
            return FromCells(top[0].GetProperty("cells").EnumerateObject().Select(ReadCell).ToList());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CodesignException($"{jsonPath}: not the write_json netlist this codesign reads: {e.Message}");
        }
    }

    /// <summary>
    /// One mapped cell: its name, type, whether paths stop at it, the input nets its outputs depend on, its output nets,
    /// its carry in (−1: none), and the inputs that end paths without reaching its outputs in the same cycle
    /// (<paramref name="Writes"/>: a distributed RAM's data and write enable, written at the clock edge).
    /// </summary>
    public sealed record Cell(string Name, string Type, bool Register, int[] Inputs, int[] Outputs, int CarryIn = -1, int[]? Writes = null);

    /// <summary>A distributed RAM (LUTRAM): its read is combinational from the address, its write a register.</summary>
    public static bool IsDistributedRam(string type) => type.StartsWith("RAM", StringComparison.Ordinal) && !type.StartsWith("RAMB", StringComparison.Ordinal);

    /// <summary>A distributed RAM's read-address ports (ADDRA…, A, A0…, DPRA…): the inputs its read data depends on.</summary>
    public static bool IsReadAddress(string port) =>
        port.StartsWith("ADDR", StringComparison.Ordinal) || port.StartsWith("DPRA", StringComparison.Ordinal) || port.StartsWith("RADR", StringComparison.Ordinal)
        || (port.StartsWith('A') && port[1..].All(char.IsAsciiDigit));

    private static Cell ReadCell(JsonProperty p)
    {
        var c = p.Value;
        string type = c.GetProperty("type").GetString() ?? "";
        var registers = new Dictionary<string, long>(StringComparer.Ordinal);
        if (c.TryGetProperty("parameters", out var ps))
            foreach (var q in ps.EnumerateObject())
                if (q.Name is "AREG" or "BREG" or "MREG" or "PREG" && q.Value.ValueKind == JsonValueKind.String && q.Value.GetString() is { } bits && bits.Length > 0 && bits.All(ch => ch is '0' or '1'))
                    registers[q.Name] = Convert.ToInt64(bits, 2);
        var directions = c.GetProperty("port_directions");
        var inputs = new List<int>();
        var outputs = new List<int>();
        var writes = new List<int>();
        bool lutram = IsDistributedRam(type);
        int carryIn = -1;
        foreach (var conn in c.GetProperty("connections").EnumerateObject())
        {
            // constants ("0", "1", "x") drive nothing worth timing
            var nets = conn.Value.EnumerateArray().Where(b => b.ValueKind == JsonValueKind.Number).Select(b => b.GetInt32()).ToArray();
            string direction = directions.TryGetProperty(conn.Name, out var d) ? d.GetString() ?? "" : "";
            if (direction == "output") outputs.AddRange(nets);
            else if (direction == "input" && lutram && !IsReadAddress(conn.Name)) writes.AddRange(nets);
            else if (direction == "input")
            {
                inputs.AddRange(nets);
                if (conn.Name == "CI" && nets.Length == 1) carryIn = nets[0];
            }
        }
        return new Cell(p.Name, type, IsRegister(type, registers), [.. inputs], [.. outputs], carryIn, lutram ? [.. writes] : null);
    }

    /// <summary>
    /// Whether a path stops at a cell of <paramref name="type"/>: its outputs start paths and its inputs end them. A DSP
    /// slice does with any of its pipeline registers (<paramref name="registers"/>: AREG, BREG, MREG, PREG as set).
    /// </summary>
    public static bool IsRegister(string type, IReadOnlyDictionary<string, long> registers) =>
        type.StartsWith("FD", StringComparison.Ordinal) || type.StartsWith("RAMB", StringComparison.Ordinal) || type.StartsWith("URAM", StringComparison.Ordinal)
        || type.StartsWith("SRL", StringComparison.Ordinal) || (type.StartsWith("DSP48", StringComparison.Ordinal) && registers.Values.Any(v => v > 0));

    /// <summary>LUT levels a combinational cell adds; <paramref name="chained"/>: a carry block fed by another's carry out.</summary>
    public static double Weight(string type, bool chained) => type switch
    {
        "INV" or "BUFG" or "GND" or "VCC" => 0,
        "MUXF7" or "MUXF8" or "MUXF9" => 0.25,
        _ when type.StartsWith("CARRY", StringComparison.Ordinal) => chained ? 0.1 : 0.5,
        _ when type.StartsWith("DSP48", StringComparison.Ordinal) => 4,
        _ => 1,  // LUT1–LUT6 and distributed RAM's read (address to data)
    };

    public static LogicDepth FromCells(IReadOnlyList<Cell> cells)
    {
        var driver = new Dictionary<int, int>();
        for (int i = 0; i < cells.Count; i++)
            foreach (int n in cells[i].Outputs) driver[n] = i;
        var depth = new double[cells.Count];
        var previous = new int[cells.Count];  // the cell before this one on the deepest path into its output; −1: none
        var state = new byte[cells.Count];  // 0 unseen, 1 on the stack, 2 done
        (double Levels, int Cell) Arrival(int net) => driver.TryGetValue(net, out int d) ? (Output(d), d) : (0, -1);
        double Output(int root)
        {
            if (state[root] == 2) return depth[root];
            var stack = new Stack<int>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                int i = stack.Peek();
                if (state[i] == 2) { stack.Pop(); continue; }
                var c = cells[i];
                if (c.Register) { depth[i] = 0; previous[i] = -1; state[i] = 2; stack.Pop(); continue; }
                state[i] = 1;
                bool pending = false;
                double deepest = 0;
                int from = -1;
                foreach (int n in c.Inputs)
                {
                    if (!driver.TryGetValue(n, out int d)) continue;
                    if (state[d] == 2)
                    {
                        if (from < 0 || depth[d] > deepest) (deepest, from) = (depth[d], d);
                    }
                    else if (state[d] == 0) { stack.Push(d); pending = true; }
                    else throw new CodesignException($"a combinational loop through {c.Name} ({c.Type}) and {cells[d].Name}");
                }
                if (pending) continue;
                bool chained = c.CarryIn >= 0 && driver.TryGetValue(c.CarryIn, out int carry) && cells[carry].Type.StartsWith("CARRY", StringComparison.Ordinal);
                depth[i] = deepest + Weight(c.Type, chained);
                previous[i] = from;
                state[i] = 2;
                stack.Pop();
            }
            return depth[root];
        }
        var levels = new Dictionary<string, double>(StringComparer.Ordinal);
        var paths = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var c in cells.Where(c => c.Register || c.Writes is not null))
        {
            double arrival = 0;
            int last = -1;
            foreach (int n in c.Register ? c.Inputs : c.Writes!)
            {
                var a = Arrival(n);
                if (last < 0 && a.Cell >= 0 || a.Levels > arrival) (arrival, last) = a;
            }
            string unit = Unit(c.Name);
            double rounded = Math.Round(arrival, 2);
            if (levels.TryGetValue(unit, out double known) && known >= rounded) continue;
            levels[unit] = rounded;
            paths[unit] = Crossed(cells, previous, last, unit);
        }
        return new LogicDepth(levels, paths);
    }

    /// <summary>The units a path crosses, first to last: back from its last combinational cell to the register it starts at.</summary>
    private static List<string> Crossed(IReadOnlyList<Cell> cells, int[] previous, int last, string end)
    {
        var units = new List<string> { end };
        int start = -1;
        for (int i = last; i >= 0; i = previous[i])
        {
            string unit = Unit(cells[i].Name);
            if (units[^1] != unit) units.Add(unit);
            start = i;
        }
        if (start < 0 || !cells[start].Register) units.Add("(input)");
        units.Reverse();
        return units;
    }

    private static readonly Regex Instance = new(@"^\\([^.\\$]+(?:\[\d+\])?)\.", RegexOptions.Compiled);

    /// <summary>The instance path of a flattened cell: <c>$flatten\u_sfu.\u_softmax.$abc$…</c> is <c>u_sfu.u_softmax</c>.</summary>
    public static string Unit(string cellName)
    {
        const string flattened = "$flatten";
        if (!cellName.StartsWith(flattened, StringComparison.Ordinal)) return "(top)";
        var parts = new List<string>();
        string rest = cellName[flattened.Length..];
        for (var m = Instance.Match(rest); m.Success; m = Instance.Match(rest))
        {
            parts.Add(m.Groups[1].Value);
            rest = rest[m.Length..];
        }
        return parts.Count == 0 ? "(top)" : string.Join('.', parts);
    }
}
