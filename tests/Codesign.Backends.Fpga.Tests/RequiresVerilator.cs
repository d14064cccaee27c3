using Codesign.Testing;
using Codesign.Backends.Fpga.Verification;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>Tests that run Verilator: CI installs it (scripts/setup.sh); elsewhere they are skipped with the reason.</summary>
public abstract class RequiresVerilator
{
    [OneTimeSetUp]
    public void CheckVerilator()
    {
        if (!Verilator.IsInstalled) Assert.Ignore("verilator is not installed (scripts/setup.sh installs it): the RTL cannot be linted or simulated here");
    }

    protected static string Testbench(string name) => Path.Combine(TestPaths.RepoRoot, "testbenches", name);
}
