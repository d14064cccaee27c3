using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;
using Cell = Codesign.Backends.Fpga.Verification.LogicDepth.Cell;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The deepest register-to-register path of each unit, from a mapped netlist, and the clock estimate read from it.</summary>
public class LogicDepthTests
{
    private static Cell Ff(string name, int d, int q) => new(name, "FDRE", true, [d], [q]);
    private static Cell Lut(string name, int[] inputs, int output) => new(name, "LUT6", false, inputs, [output]);

    [Test]
    public void A_path_adds_each_cells_weight_from_register_to_register_and_belongs_to_the_unit_it_ends_in()
    {
        // u_a's register → two LUTs → MUXF7 → a carry chain of two blocks → u_b's register: 1 + 1 + 0.25 + 0.5 + 0.1
        var cells = new List<Cell>
        {
            Ff("$flatten\\u_a.$auto$ff$1", 1, 2),
            Lut("$flatten\\u_b.\\g_lane[3].$abc$2", [2, 2], 3),
            Lut("$flatten\\u_b.\\g_lane[3].$abc$3", [3], 4),
            new("$flatten\\u_b.$abc$4.mux7", "MUXF7", false, [4, 3, 2], [5]),
            new("$flatten\\u_b.$carry$0", "CARRY4", false, [5], [6, 7]),
            new("$flatten\\u_b.$carry$1", "CARRY4", false, [7, 5], [8], CarryIn: 7),
            Ff("$flatten\\u_b.\\g_lane[3].$auto$ff$5", 8, 9),
            // u_a's register is fed straight from the top's, and the top's through an inverter, which adds no level
            new("$abc$6", "INV", false, [9], [10]),
            Ff("$auto$ff$7", 10, 1),
        };
        var depth = LogicDepth.FromCells(cells);
        Assert.That(depth.LevelsByUnit["u_b.g_lane[3]"], Is.EqualTo(2.85).Within(1e-9));
        Assert.That(depth.LevelsByUnit["(top)"], Is.EqualTo(0));
        Assert.That(depth.LevelsByUnit["u_a"], Is.EqualTo(0));
        Assert.That((depth.Deepest, depth.DeepestUnit), Is.EqualTo((2.85, "u_b.g_lane[3]")));
        Assert.That(depth.PathByUnit["u_b.g_lane[3]"], Is.EqualTo(new[] { "u_a", "u_b.g_lane[3]", "u_b", "u_b.g_lane[3]" }),
            "from u_a's register through the lane's LUTs, u_b's multiplexer and carries, into the lane's register");
        Assert.That(depth.PathByUnit["u_a"], Is.EqualTo(new[] { "(top)", "u_a" }));
    }

    [Test]
    public void A_dsp_slice_without_registers_is_four_levels_and_with_one_ends_the_path()
    {
        var combinational = new Cell("$flatten\\u_m.$dsp$1", "DSP48E2", LogicDepth.IsRegister("DSP48E2", new Dictionary<string, long> { ["AREG"] = 0, ["PREG"] = 0 }), [2], [3]);
        var registered = new Cell("$flatten\\u_m.$dsp$2", "DSP48E2", LogicDepth.IsRegister("DSP48E2", new Dictionary<string, long> { ["MREG"] = 1 }), [3], [4]);
        var depth = LogicDepth.FromCells([Ff("$flatten\\u_m.$ff$0", 9, 2), combinational, registered, Lut("$flatten\\u_m.$lut", [4], 5), Ff("$flatten\\u_n.$ff$3", 5, 9)]);
        Assert.That(depth.LevelsByUnit["u_m"], Is.EqualTo(4), "register → unregistered DSP → the registered DSP's input");
        Assert.That(depth.LevelsByUnit["u_n"], Is.EqualTo(1), "the registered DSP's output starts a path");
    }

    /// <summary>
    /// A distributed RAM's read data follow its address in the same cycle (one level), but its write data and enable
    /// are taken at the clock edge: a path into them ends there, and nothing goes from them to the read data.
    /// </summary>
    [Test]
    public void A_distributed_rams_read_follows_its_address_and_its_write_ends_a_path()
    {
        var cells = new List<Cell>
        {
            Ff("$flatten\\u_x.$ff$addr", 20, 1),
            Ff("$flatten\\u_x.$ff$data", 21, 2),
            Lut("$flatten\\u_x.$lut$1", [2], 3),
            Lut("$flatten\\u_x.$lut$2", [3], 4),
            // RAM64M8: read address 1, write data 4 (two LUTs deep) and write enable 2; read data 5
            new("$flatten\\u_buf.$ram", "RAM64M8", false, [1], [5], Writes: [4, 2]),
            Lut("$flatten\\u_y.$lut$3", [5], 6),
            Ff("$flatten\\u_y.$ff$out", 6, 7),
        };
        var depth = LogicDepth.FromCells(cells);
        Assert.That(depth.LevelsByUnit["u_y"], Is.EqualTo(2), "address register → the RAM's read → a LUT → u_y's register");
        Assert.That(depth.PathByUnit["u_y"], Is.EqualTo(new[] { "u_x", "u_buf", "u_y" }));
        Assert.That(depth.LevelsByUnit["u_buf"], Is.EqualTo(2), "the write data's two LUTs end at the RAM");
        Assert.That(LogicDepth.IsReadAddress("ADDRH") && LogicDepth.IsReadAddress("A3") && LogicDepth.IsReadAddress("DPRA0") && LogicDepth.IsReadAddress("A"), Is.True);
        Assert.That(LogicDepth.IsReadAddress("DIA") || LogicDepth.IsReadAddress("WE") || LogicDepth.IsReadAddress("D"), Is.False);
    }

    [Test]
    public void A_combinational_loop_is_an_error_naming_its_cells()
    {
        var cells = new List<Cell> { Lut("$abc$a", [2], 1), Lut("$abc$b", [1], 2), Ff("$ff", 1, 3) };
        Assert.That(() => LogicDepth.FromCells(cells), Throws.TypeOf<CodesignException>().With.Message.Contain("combinational loop").And.Message.Contain("$abc$"));
    }

    [Test]
    public void A_truncated_or_foreign_netlist_is_an_error_naming_the_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"codesign-depth-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string truncated = Path.Combine(dir, "truncated.json"), foreign = Path.Combine(dir, "foreign.json");
            File.WriteAllText(truncated, "{\"modules\": {\"top\": {\"attributes\": {\"top\": \"1\"}, \"cells\": {\"a\": {\"type\": \"LUT6\", \"conn");
            File.WriteAllText(foreign, "{\"design\": {}}");
            Assert.That(() => LogicDepth.FromNetlist(truncated), Throws.TypeOf<CodesignException>().With.Message.StartsWith(truncated));
            Assert.That(() => LogicDepth.FromNetlist(foreign), Throws.TypeOf<CodesignException>().With.Message.StartsWith(foreign));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase("$flatten\\u_cores.\\g_core[1].\\u_core.$abc$12$auto$blifparse.cc:525:parse_blif$13.lut1", "u_cores.g_core[1].u_core")]
    [TestCase("$flatten\\u_sfu.$auto$ff.cc:266:slice$99", "u_sfu")]
    [TestCase("$abc$175906$auto$blifparse.cc:525:parse_blif$175907", "(top)")]
    public void A_flattened_cells_unit_is_its_instance_path(string cell, string unit) => Assert.That(LogicDepth.Unit(cell), Is.EqualTo(unit));

    [Test]
    public void The_estimate_allows_a_clock_the_levels_of_its_budget_and_no_more()
    {
        double budget = TimingEstimate.LevelBudget(225);
        Assert.That(budget, Is.EqualTo(7), "4.44 ns less 0.6 ns at 0.5 ns a level");
        Assert.That(TimingEstimate.FmaxMhz(budget), Is.GreaterThanOrEqualTo(225));
        Assert.That(TimingEstimate.FmaxMhz(budget + 1), Is.LessThan(225));
    }

    /// <summary>
    /// Yosys maps a registered XOR of six bits to one LUT between registers, and the combinational binary32 adder between
    /// registers to tens of levels (its normalising shift and rounding, flowmap: 42 levels): the analysis reads real
    /// netlists, and the adder is why the float units must be pipelined.
    /// </summary>
    [Test, Category("Yosys")]
    public void Synthesised_netlists_give_one_level_for_a_lut_and_tens_for_a_binary32_adder()
    {
        if (!YosysSynthesis.IsInstalled) Assert.Ignore("yosys is not installed (scripts/setup.sh installs it)");
        const string xor6 = """
            module xor6(input wire clk, input wire [5:0] a, output reg y);
                reg [5:0] r;
                always @(posedge clk) begin r <= a; y <= ^r; end
            endmodule
            """;
        var one = YosysSynthesis.Synthesize(new Dictionary<string, string> { ["xor6.sv"] = xor6 }, "xor6", "xcup").Depth!;
        Assert.That(one.Deepest, Is.EqualTo(1));

        const string wrapper = """
            module add_between_registers(input wire clk, input wire [31:0] a, input wire [31:0] b, output reg [31:0] y);
                reg [31:0] ra, rb;
                wire [31:0] sum;
                fp32_add u_add (.a(ra), .b(rb), .y(sum));
                always @(posedge clk) begin ra <= a; rb <= b; y <= sum; end
            endmodule
            """;
        var rtl = new Dictionary<string, string>
        {
            ["fp32_add.sv"] = RtlTemplates.Render("fp32_add", new Dictionary<string, object> { ["module_name"] = "fp32_add" }),
            ["add_between_registers.sv"] = wrapper,
        };
        var adder = YosysSynthesis.Synthesize(rtl, "add_between_registers", "xcup").Depth!;
        TestContext.Out.WriteLine($"fp32_add between registers: {adder.Deepest} levels in {adder.DeepestUnit}");
        Assert.That(adder.Deepest, Is.InRange(25, 80));
        Assert.That(adder.DeepestUnit, Is.EqualTo("(top)"), "the path ends at the wrapper's output register");
    }
}
