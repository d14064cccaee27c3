using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Aot;

/// <summary>Which model of the accelerator runs an artifact: the Verilated RTL (cycle counts) or the functional model of the instruction set.</summary>
public enum FpgaSimulator { Rtl, Functional }

/// <summary>
/// An artifact's fpga part read back and checked (<see cref="FpgaArtifact.Load"/>): opens the accelerator it describes
/// with its memory image loaded, and the host's step runner over it.
/// </summary>
public sealed class FpgaArtifactImage
{
    private const int ChunkBytes = 64 << 20;
    private readonly string _memoryPath;

    internal FpgaArtifactImage(FpgaArtifactSection section, string memoryPath, LengthAdaptivePrograms programs, IReadOnlyDictionary<string, string> rtl)
    {
        Section = section;
        _memoryPath = memoryPath;
        Programs = programs;
        Rtl = rtl;
    }

    public FpgaArtifactSection Section { get; }
    public LengthAdaptivePrograms Programs { get; }
    /// <summary>The RTL as the artifact carries it: file name to text.</summary>
    public IReadOnlyDictionary<string, string> Rtl { get; }

    /// <summary>The memory port of the device the artifact was compiled for, as the simulation and the performance model take it.</summary>
    public MemoryPort Port => MemoryPort.Of(Section.Device);

    /// <summary>The port each matrix core has on the device's weight memory.</summary>
    public CorePort CorePort => CorePort.Of(Section.Device, Section.Cores.Shape);

    /// <summary>The performance model for the device's ports, reading block masks from the memory image.</summary>
    public PerformanceModel PerformanceModel => new(Port) { Memory = ReadImage, Cores = Section.Cores, CorePort = CorePort };

    /// <summary>Bytes of the initial external memory: the image's segments, zeros elsewhere.</summary>
    private void ReadImage(long address, Span<byte> data)
    {
        data.Clear();
        using var file = File.OpenHandle(_memoryPath);
        foreach (var segment in Section.Memory.Where(s => s.Core < 0))
        {
            long from = Math.Max(address, segment.Address), to = Math.Min(address + data.Length, segment.Address + segment.Bytes);
            if (from >= to) continue;
            var part = data.Slice((int)(from - address), (int)(to - from));
            if (RandomAccess.Read(file, part, segment.Offset + (from - segment.Address)) != part.Length)
                throw new CodesignException($"{_memoryPath}: truncated at offset {segment.Offset + (from - segment.Address)}");
        }
    }

    /// <summary>The accelerator (built by Verilator from the artifact's RTL for <see cref="FpgaSimulator.Rtl"/>) with the memory image loaded.</summary>
    public IAcceleratorDevice Open(FpgaSimulator simulator)
    {
        IAcceleratorDevice device = simulator == FpgaSimulator.Rtl
            ? VerilatedAccelerator.Create(Rtl, Section.ProgramDepth, Section.ExternalBytes, Port, Section.Cores, Section.CoreBytes, CorePort)
            : new FunctionalAccelerator(Section.ExternalBytes, Section.Buffers, Section.Cores, Section.CoreBytes);
        try
        {
            LoadMemory(device);
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public FpgaStepRunner Runner(IAcceleratorDevice device) => new(Section.Io, Programs, device);

    private void LoadMemory(IAcceleratorDevice device)
    {
        using var file = File.OpenHandle(_memoryPath);
        var buffer = GC.AllocateUninitializedArray<byte>((int)Math.Min(ChunkBytes, Section.Memory.Select(s => s.Bytes).DefaultIfEmpty(0).Max()));
        foreach (var segment in Section.Memory)
            for (long done = 0; done < segment.Bytes;)
            {
                int count = (int)Math.Min(buffer.Length, segment.Bytes - done);
                if (RandomAccess.Read(file, buffer.AsSpan(0, count), segment.Offset + done) != count)
                    throw new CodesignException($"{_memoryPath}: truncated at offset {segment.Offset + done}");
                if (segment.Core < 0) device.Write(segment.Address + done, buffer.AsSpan(0, count));
                else device.WriteCore(segment.Core, segment.Address + done, buffer.AsSpan(0, count));
                done += count;
            }
    }
}
