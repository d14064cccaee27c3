using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// The whole accelerator RTL, built by Verilator into the fpga-sim shared library, against the functional model on
/// random programs of the instructions it executes: the external memories after the run are equal byte for byte,
/// and a fault stops both at the same instruction.
/// </summary>
[Category("Verilator")]
public class VerilatedAcceleratorTests : RequiresVerilator
{
    // Odd sizes: no buffer is a power of two of lines.
    internal static readonly OnChipBuffers Buffers = new(61, 10, 7);
    internal const long ExternalBytes = 6008;

    internal static Instruction Load(OnChipBuffer buffer, long extUnit, long chipUnit, long bytes) =>
        new(Opcode.Load, (byte)buffer, Units.None, Units.None, (uint)extUnit, (uint)chipUnit, (uint)bytes, 0);

    internal static Instruction Store(OnChipBuffer buffer, long extUnit, long chipUnit, long bytes) =>
        new(Opcode.Store, (byte)buffer, Units.None, Units.None, (uint)extUnit, (uint)chipUnit, (uint)bytes, 0);

    internal static Instruction Sfu(SfuFunction f, long a, int rows, int src, int src2, int dst) =>
        new(Opcode.Sfu, (byte)f, Units.None, Units.None, (uint)a, (uint)rows, Instruction.Pack16(src, src2), Instruction.Pack16(0, dst));

    internal static readonly Instruction End = new(Opcode.End, 0, Units.None, Units.None, 0, 0, 0, 0);

    /// <summary>Random floats, then the ids of a gather, then its table, then room for the outputs.</summary>
    internal static byte[] RandomExternal(Random r, int tableRows)
    {
        var bytes = new byte[ExternalBytes];
        var floats = RandomTensors.RandomFloats(r, 512, spread: 8);
        Buffer.BlockCopy(floats, 0, bytes, 0, 2048);
        for (int i = 0; i < 8; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2048 + 4 * i), r.Next(tableRows));
        var table = RandomTensors.RandomFloats(r, 240, spread: 4);
        Buffer.BlockCopy(table, 0, bytes, 2240, 960);
        return bytes;
    }

    private static bool Overlaps(int dst, int src, int elements) => dst != src && dst * 4 < src * 4 + elements && src * 4 < dst * 4 + elements;

    internal static List<Instruction> RandomProgram(Random r)
    {
        var program = new List<Instruction>
        {
            Load(OnChipBuffer.Activations, 0, 0, r.Next(700, Buffers.ActivationUnits * 16 + 1)),
            Load(OnChipBuffer.Activations, 128, 50, 32),
            // 5 rows of a 20-row table of 48-byte rows at unit 140, by the ids at unit 50, into units 30..44.
            new(Opcode.Gather, 0, Units.None, Units.None, 140, 48, 5, Instruction.Pack16(50, 30)),
        };
        for (int n = 0; n < 12; n++)
        {
            var f = new[] { SfuFunction.Add, SfuFunction.Multiply, SfuFunction.Silu }[r.Next(3)];
            int length = r.Next(1, 23), rows = r.Next(1, 4), count = length * rows, words = Buffers.ActivationUnits * 4;
            int Unit() => r.Next(0, (words - count) / 4 + 1);
            int src = Unit(), src2 = Unit(), dst = r.Next(3) == 0 ? src : Unit();
            if (Overlaps(dst, src, count) || (f != SfuFunction.Silu && Overlaps(dst, src2, count))) continue;
            program.Add(Sfu(f, length, rows, src, src2, dst));
            if (r.Next(4) == 0) program.Add(new Instruction(Opcode.Sync, 0, Units.Sfu, Units.Load, 0, 0, 0, 0));
        }
        // The other buffers round trip, a partial last beat included.
        long output = 200;  // units: byte 3200 on
        foreach (var (buffer, lines) in new[] { (OnChipBuffer.Keys, Buffers.KvUnits), (OnChipBuffer.Values, Buffers.KvUnits), (OnChipBuffer.Parameters, Buffers.ParameterUnits) })
        {
            int chip = r.Next(lines), bytes = r.Next(0, (lines - chip) * 16 + 1);
            program.Add(Load(buffer, r.Next(0, 100), chip, bytes));
            program.Add(Store(buffer, output, chip, bytes));
            output += (bytes + 15) / 16;
        }
        program.Add(Store(OnChipBuffer.Activations, output, 0, Buffers.ActivationUnits * 16 - r.Next(16)));
        program.Add(End);
        return program;
    }

    internal static (byte[] Memory, AcceleratorRun Run) Execute(IAcceleratorDevice device, byte[] external, IReadOnlyList<Instruction> program)
    {
        device.Write(0, external);
        var run = device.Run(program);
        var memory = new byte[device.ExternalBytes];
        device.Read(0, memory);
        return (memory, run);
    }

    private static VerilatedAccelerator Rtl(MemoryPort? port = null) => VerilatedAccelerator.Create(Buffers, ExternalBytes, port);

    [TestCase(32, 16.0), TestCase(0, 16.0), TestCase(7, 5.3)]
    public void Random_programs_leave_the_external_memory_the_functional_model_leaves(int latency, double bytesPerCycle)
    {
        var r = RandomTensors.Fresh();
        for (int trial = 0; trial < 6; trial++)
        {
            // Fresh on-chip buffers each trial, as the functional model's are.
            using var rtl = Rtl(new MemoryPort(latency, bytesPerCycle));
            var external = RandomExternal(r, tableRows: 20);
            var program = RandomProgram(r);
            var (expected, reference) = Execute(new FunctionalAccelerator(ExternalBytes, Buffers), external, program);
            var (got, run) = Execute(rtl, external, program);
            int first = Enumerable.Range(0, got.Length).FirstOrDefault(i => got[i] != expected[i], -1);
            Assert.That(first, Is.EqualTo(-1), () => $"trial {trial}: byte {first} differs (rtl {got[first]}, functional {expected[first]}); program:\n{string.Join('\n', program)}");
            Assert.That(run.Executed, Is.EquivalentTo(reference.Executed));
            Assert.That(run.Cycles, Is.GreaterThan(program.Count));
            Assert.That(run.InstructionCycles!.Sum(), Is.InRange(run.Cycles - 2, run.Cycles), "every cycle is charged to the instruction it was spent on");
        }
    }

    private static IEnumerable<TestCaseData> Faults()
    {
        yield return new TestCaseData(new[] { Load(OnChipBuffer.Activations, 0, 60, 17), End }, 0, "outside").SetName("A load past the end of a buffer faults");
        yield return new TestCaseData(new[] { Load(OnChipBuffer.Activations, 0, 0, 16), Load(OnChipBuffer.Keys, 375, 0, 16), End }, 1, "outside").SetName("A load past the end of external memory faults");
        yield return new TestCaseData(new[] { Store(OnChipBuffer.Parameters, 375, 0, 9), End }, 0, "outside").SetName("A store past the end of external memory faults");
        yield return new TestCaseData(new[] { new Instruction(Opcode.Gather, 0, Units.None, Units.None, 373, 48, 1, Instruction.Pack16(0, 4)), End }, 0, "outside").SetName("A gathered row past the end of external memory faults");
        yield return new TestCaseData(new[] { Sfu(SfuFunction.Add, 9, 1, 0, 4, 1), End }, 0, "overlaps").SetName("An element-wise destination overlapping its source faults");
        yield return new TestCaseData(new[] { Load(OnChipBuffer.Activations, 0, 0, 16) }, 1, "no END").SetName("A program without END faults");
    }

    [TestCaseSource(nameof(Faults))]
    public void A_fault_stops_both_devices_at_the_same_instruction(Instruction[] program, int index, string reason)
    {
        var external = new byte[ExternalBytes];
        using var rtl = Rtl();
        Assert.That(() => Execute(new FunctionalAccelerator(ExternalBytes, Buffers), external, program), Throws.TypeOf<CodesignException>().With.Message.Contain($"instruction {index}").And.Message.Contain(reason));
        Assert.That(() => Execute(rtl, external, program), Throws.TypeOf<CodesignException>().With.Message.Contain($"instruction {index}").And.Message.Contain(reason));
        // The simulator is usable after a fault.
        Assert.That(Execute(rtl, external, [Load(OnChipBuffer.Activations, 0, 0, 32), Store(OnChipBuffer.Activations, 10, 0, 32), End]).Run.Executed[Opcode.Store], Is.EqualTo(1));
    }

    [Test]
    public void An_instruction_the_rtl_does_not_execute_is_named()
    {
        using var rtl = Rtl();
        var fiveBit = new Instruction(Opcode.MatVec, 5, Units.None, Units.None, 0, Instruction.Pack16(4, 16), Instruction.Pack16(1, 16), Instruction.Pack16(0, 8));
        Assert.That(() => rtl.Run([Sfu(SfuFunction.Add, 4, 1, 0, 1, 2), fiveBit, End]),
            Throws.TypeOf<CodesignException>().With.Message.Contain("instruction 1 (MatVec").And.Message.Contain("not executed by the accelerator RTL"));
    }
}
