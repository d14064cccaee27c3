using System.Text;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The performance model's cycles against the Verilated accelerator's, instruction by instruction, on random programs and memory ports.</summary>
[Category("Verilator")]
public class PerformanceModelTests : RequiresVerilator
{
    [TestCase(32, 16.0), TestCase(0, 16.0), TestCase(7, 5.3), TestCase(100, 11.0), TestCase(3, 1.5)]
    public void Predicted_cycles_are_within_ten_percent_of_the_simulated_ones(int latency, double bytesPerCycle)
    {
        var r = RandomTensors.Fresh();
        var port = new MemoryPort(latency, bytesPerCycle);
        var model = new PerformanceModel(port);
        for (int trial = 0; trial < 3; trial++)
        {
            using var rtl = VerilatedAccelerator.Create(VerilatedAcceleratorTests.Buffers, VerilatedAcceleratorTests.ExternalBytes, port);
            var program = VerilatedAcceleratorTests.RandomProgram(r);
            rtl.Write(0, VerilatedAcceleratorTests.RandomExternal(r, tableRows: 20));
            var run = rtl.Run(program);
            var predicted = model.Predict(program);
            Assert.That(predicted.Unpredicted, Is.Empty);
            var report = new StringBuilder();
            bool off = false;
            for (int i = 0; i < program.Count; i++)
            {
                long measured = run.InstructionCycles![i], guess = predicted.PerInstruction[i];
                bool bad = Math.Abs(guess - measured) > 0.1 * measured;
                off |= bad;
                report.AppendLine($"{(bad ? "!" : " ")} {measured,6} {guess,6}  {program[i]}");
            }
            Assert.That(off, Is.False, () => $"measured, predicted per instruction:\n{report}");
            Assert.That((double)predicted.Total, Is.EqualTo(run.Cycles).Within(10).Percent);
            TestContext.Out.WriteLine($"port {port}: simulated {run.Cycles} cycles, predicted {predicted.Total}\n{report}");
        }
    }
}
