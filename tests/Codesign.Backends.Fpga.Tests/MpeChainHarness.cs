using Codesign.Testing;
using System.Globalization;
using System.Text;
using Codesign.Backends.Fpga.Engine;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>Runs built testbenches, and an <see cref="MpeStream"/> through the Verilator build of a chain and testbenches/mpe_chain_tb.cpp.</summary>
internal static class MpeChainHarness
{
    /// <summary>Feeds <paramref name="input"/> to a built testbench and returns its output lines; a failing run fails the test with its error output.</summary>
    public static string[] RunTestbench(string exe, string input)
    {
        var result = ExternalTool.Run(exe, "verilator", [], TimeSpan.FromMinutes(2), input: input);
        if (result.ExitCode != 0) throw new CodesignException($"{exe}: exit {result.ExitCode}: {result.Error}");
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public sealed record Run(long[][] Sums, long Cycles);

    public static Run Simulate(MpeChainConfig chain, MpeStream stream)
    {
        string dir = Path.Combine(TestPaths.RepoRoot, "testbenches");
        string exe = Verilator.Build(new Dictionary<string, string> { ["mpe_chain.sv"] = chain.Render() },
            [Path.Combine(dir, "mpe_chain_tb.cpp"), Path.Combine(dir, "port_bits.h")], "mpe_chain");
        var input = new StringBuilder();
        input.Append(CultureInfo.InvariantCulture, $"{chain.Lanes} {chain.Window} {chain.WeightBits} {chain.AccBits} {stream.Beats.Count}\n");
        foreach (var b in stream.Beats)
            input.Append(CultureInfo.InvariantCulture, $"{(b.First ? 1 : 0)} {(b.Last ? 1 : 0)} {b.SegLog2} {string.Join(' ', b.Activations)} {string.Join(' ', b.Weights)} {string.Join(' ', b.Selects)}\n");
        var lines = RunTestbench(exe, input.ToString());
        var sums = lines[..^1].Select(l => l.Split(' ').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        return new Run(sums, long.Parse(lines[^1]["cycles ".Length..], CultureInfo.InvariantCulture));
    }
}
