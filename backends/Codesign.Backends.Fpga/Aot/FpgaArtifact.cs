using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Aot;

/// <summary>
/// The fpga's files in an artifact directory: the external-memory image (packed weights and constants), the decode
/// and prefill-chunk programs (one per length bucket, patched for the lengths at run time), and the accelerator's RTL, rendered for
/// the model's buffers, with what Yosys mapped it to on the device. Loading reads these back, checks every size and
/// address against the device and the files, and opens the accelerator they describe: the Verilated RTL or the
/// functional model. Nothing is recompiled at load.
/// </summary>
public static class FpgaArtifact
{
    public const string Folder = "fpga";

    /// <summary>The largest on-chip buffer a program addresses: 16-bit unit offsets.</summary>
    public const int MaxBufferUnits = 1 << 16;

    /// <summary>
    /// Yosys' <c>synth_xilinx</c> of <paramref name="compilation"/>'s RTL for <paramref name="device"/>'s family; a
    /// design that needs more of any resource than the device has is an error naming each, with the whole count.
    /// </summary>
    public static ResourceReport Synthesize(FpgaCompilation compilation, FpgaDevice device)
    {
        var report = YosysSynthesis.Synthesize(compilation.Rtl.Render(), AcceleratorRtl.Top, device.Family);
        var over = report.Exceeding(device);
        if (over.Count > 0)
            throw new CodesignException($"fpga: the accelerator does not fit the {device.Name} ({device.Part}): {string.Join(", ", over)} (it maps to {report.Summary})");
        return report;
    }

    /// <param name="resources">What synthesis mapped <paramref name="compilation"/>'s RTL to, or null where it was not run.</param>
    /// <param name="folder">Where in the artifact the files go.</param>
    public static FpgaArtifactSection Write(FpgaCompilation compilation, FpgaDevice device, ResourceReport? resources, string directory, string folder = Folder)
    {
        Directory.CreateDirectory(Path.Combine(directory, folder, "rtl"));
        string memoryFile = $"{folder}/memory.bin";
        var segments = new List<FpgaMemorySegment>();
        using (var file = new FileStream(Path.Combine(directory, memoryFile), FileMode.CreateNew, FileAccess.Write))
            foreach (var segment in FpgaMemoryImage.Segments(compilation.Graph, compilation.Store, compilation.Plan))
            {
                segments.Add(new FpgaMemorySegment(segment.Address, file.Position, segment.Data.Length, segment.Core));
                file.Write(segment.Data.Span);
            }

        string programFile = $"{folder}/programs.isa";
        List<FpgaStoredProgram> decode = [], prefill = [];
        using (var file = new FileStream(Path.Combine(directory, programFile), FileMode.CreateNew, FileAccess.Write))
            foreach (var (kind, stored) in new[] { (compilation.Programs.Decode, decode), (compilation.Programs.Prefill, prefill) })
                foreach (var program in kind)
                {
                    stored.Add(new FpgaStoredProgram(file.Position, program.Instructions.Count, program.Patches));
                    file.Write(InstructionProgram.Encode(program.Instructions));
                }

        var rtl = compilation.Rtl;
        var rtlFiles = new List<string>();
        foreach (var (name, text) in rtl.Render().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            string path = $"{folder}/rtl/{name}";
            File.WriteAllText(Path.Combine(directory, path), text);
            rtlFiles.Add(path);
        }

        var storage = new FpgaProgramStorage(compilation.Programs.Bytes, LengthAdaptivePrograms.BytesOfOneProgramPerLength(compilation.Graph, compilation.Plan));
        return new FpgaArtifactSection(device, compilation.Plan.MaxContext, compilation.ExternalBytes, memoryFile, segments, programFile, decode, prefill,
            storage, compilation.Io, compilation.Buffers, rtl.ProgramDepth, rtlFiles, resources, compilation.Cores, compilation.CoreBytes, rtl.LegacyMatrix, rtl.Binary32Engine);
    }

    /// <summary>
    /// Reads an artifact's fpga part back for a graph whose logits have <paramref name="vocab"/> entries per token;
    /// <paramref name="source"/> (the manifest's path) names it in errors.
    /// </summary>
    public static FpgaArtifactImage Load(string directory, FpgaArtifactSection section, int vocab, string source)
    {
        FpgaDevices.Check(section.Device, $"{source}: devices.fpga.device");
        long memoryLimit = section.Device.SystemMemory.Bytes;
        if (section.ExternalBytes <= 0 || section.ExternalBytes > memoryLimit)
            throw new CodesignException($"{source}: external memory of {section.ExternalBytes} bytes; the {section.Device.Name}'s {section.Device.SystemMemory.Name} holds {memoryLimit}");
        var b = section.Buffers;
        if (b.ActivationUnits is < 1 or > MaxBufferUnits || b.KvUnits is < 1 or > MaxBufferUnits || b.ParameterUnits is < 1 or > MaxBufferUnits)
            throw new CodesignException($"{source}: on-chip buffers of {b.ActivationUnits}, {b.KvUnits} and {b.ParameterUnits} units; each takes 1 to {MaxBufferUnits}");
        MatrixCoreDesign cores;
        try
        {
            cores = section.Cores.Checked();
        }
        catch (CodesignException e)
        {
            throw new CodesignException($"{source}: devices.fpga.cores: {e.Message}");
        }
        long channelBytes = CorePort.ChannelBytes(section.Device, cores.Shape);
        if (section.CoreBytes <= 0 || section.CoreBytes > channelBytes)
            throw new CodesignException($"{source}: core channels of {section.CoreBytes} bytes; each of the {section.Device.Name}'s {cores.Cores} cores has {channelBytes}");
        if (section.ProgramDepth is < 1 or > AcceleratorRtl.MaxProgramDepth)
            throw new CodesignException($"{source}: an instruction memory of {section.ProgramDepth} instructions (1 to {AcceleratorRtl.MaxProgramDepth})");

        var io = section.Io;
        if (io.Vocab != vocab) throw new CodesignException($"{source}: the fpga part reads {io.Vocab} logits a token; the graph has {vocab}");
        if (io.ChunkTokens < 1) throw new CodesignException($"{source}: steps of {io.ChunkTokens} tokens");
        CheckRange(source, "the token ids", io.TokenAddress, 4L * io.ChunkTokens, section.ExternalBytes);
        if (io.PositionAddress is { } position) CheckRange(source, "the positions", position, 4L * io.ChunkTokens, section.ExternalBytes);
        CheckRange(source, "the logits", io.LogitsAddress, 4L * io.Vocab * io.ChunkTokens, section.ExternalBytes);

        string memoryPath = Path.Combine(directory, section.MemoryFile);
        long memoryLength = new FileInfo(memoryPath).Length;
        foreach (var s in section.Memory)
        {
            if (s.Offset < 0 || s.Bytes < 0 || s.Offset > memoryLength - s.Bytes)
                throw new CodesignException($"{memoryPath}: a segment of {s.Bytes} bytes at offset {s.Offset} is not inside the {memoryLength}-byte file");
            if (s.Core < -1 || s.Core >= cores.Cores)
                throw new CodesignException($"{source}: the memory segment at offset {s.Offset} is for core {s.Core}; the design has {cores.Cores} (-1: system memory)");
            if (s.Core < 0) CheckRange(source, $"the memory segment at offset {s.Offset}", s.Address, s.Bytes, section.ExternalBytes);
            else if (s.Address < 0 || s.Address > section.CoreBytes - s.Bytes)
                throw new CodesignException($"{source}: the memory segment at offset {s.Offset} ({s.Bytes} bytes at byte {s.Address}) is outside core {s.Core}'s {section.CoreBytes}-byte channel");
        }

        string programPath = Path.Combine(directory, section.ProgramFile);
        var programBytes = File.ReadAllBytes(programPath);
        List<InstructionProgram> Read(IReadOnlyList<FpgaStoredProgram>? stored, string kind)
        {
            var read = new List<InstructionProgram>();
            for (int n = 0; n < (stored?.Count ?? 0); n++)
            {
                var p = stored![n];
                string name = $"{programPath}: {kind} program {n}";
                if (p.Instructions < 1 || p.Instructions > section.ProgramDepth)
                    throw new CodesignException($"{name}: {p.Instructions} instructions (1 to the instruction memory's {section.ProgramDepth})");
                long length = (long)p.Instructions * Instruction.Bytes;
                if (p.Offset < 0 || p.Offset > programBytes.Length - length)
                    throw new CodesignException($"{name}: {length} bytes at offset {p.Offset} are not inside the {programBytes.Length}-byte file");
                read.Add(InstructionProgram.Read(programBytes.AsSpan((int)p.Offset, (int)length), p.Patches, name));
            }
            return read;
        }
        LengthAdaptivePrograms programs;
        try
        {
            programs = LengthAdaptivePrograms.Stored(Read(section.Decode, "decode"), Read(section.Prefill, "prefill-chunk"), section.MaxContext, io.ChunkTokens);
        }
        catch (CodesignException e)
        {
            throw new CodesignException($"{source}: {e.Message}");
        }

        var rtl = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in section.RtlFiles)
        {
            string name = Path.GetFileName(file);
            if (!name.EndsWith(".sv", StringComparison.Ordinal) || !rtl.TryAdd(name, File.ReadAllText(Path.Combine(directory, file))))
                throw new CodesignException($"{source}: RTL file '{file}' is not a .sv file of a name of its own");
        }
        if (!rtl.ContainsKey($"{AcceleratorRtl.Top}.sv")) throw new CodesignException($"{source}: the RTL has no {AcceleratorRtl.Top}.sv");
        return new FpgaArtifactImage(section, memoryPath, programs, rtl);
    }

    private static void CheckRange(string source, string what, long address, long bytes, long externalBytes)
    {
        if (address < 0 || bytes < 0 || address > externalBytes - bytes)
            throw new CodesignException($"{source}: {what} ({bytes} bytes at byte {address}) is outside the {externalBytes}-byte external memory");
    }
}
