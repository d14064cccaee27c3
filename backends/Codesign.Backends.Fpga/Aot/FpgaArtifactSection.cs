using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;
using Codesign.Backends.Fpga.Verification;

namespace Codesign.Backends.Fpga.Aot;

/// <summary>
/// A piece of the memory image: <paramref name="Bytes"/> bytes for byte address <paramref name="Address"/> of system
/// memory (<paramref name="Core"/> −1) or of a matrix core's channel, at <paramref name="Offset"/> of the memory file.
/// </summary>
public sealed record FpgaMemorySegment(long Address, long Offset, long Bytes, int Core = -1);

/// <summary>A stored program: <paramref name="Instructions"/> encoded instructions at <paramref name="Offset"/> of the program file, and its patch table.</summary>
public sealed record FpgaStoredProgram(long Offset, int Instructions, IReadOnlyList<PatchPoint> Patches);

/// <summary>Instruction storage of the decode and prefill-chunk programs, length-adaptive against one program per context length.</summary>
public sealed record FpgaProgramStorage(long Bytes, long OneProgramPerLengthBytes);

/// <summary>
/// The fpga's part of an artifact manifest: the device description it was sized and checked for, the matrix cores'
/// design and each core channel's bytes, the memory image (system memory and core channels), the decode and prefill-chunk programs (one per length bucket), where a step's inputs and logits live (a row per token of a chunk), the on-chip buffers and
/// instruction memory the RTL was rendered with, the RTL files and what Yosys mapped them to.
/// </summary>
public sealed record FpgaArtifactSection(
    FpgaDevice Device,
    int MaxContext,
    long ExternalBytes,
    string MemoryFile,
    IReadOnlyList<FpgaMemorySegment> Memory,
    string ProgramFile,
    IReadOnlyList<FpgaStoredProgram> Decode,
    IReadOnlyList<FpgaStoredProgram> Prefill,
    FpgaProgramStorage Storage,
    FpgaIo Io,
    OnChipBuffers Buffers,
    int ProgramDepth,
    IReadOnlyList<string> RtlFiles,
    ResourceReport? Resources,
    MatrixCoreDesign Cores,
    long CoreBytes,
    bool LegacyMatrix,
    bool Binary32Engine = true);
