using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Rtl;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Simulation;

/// <summary>
/// The generated accelerator RTL (<see cref="AcceleratorRtl"/>) built by Verilator into a shared library with a
/// small C API (<c>testbenches/accelerator_shell.cpp</c>) and driven cycle by cycle behind an AXI-like memory model:
/// the same <see cref="IAcceleratorDevice"/> as <see cref="FunctionalAccelerator"/>, with cycle counts. A fault the
/// RTL raises is an exception naming the instruction, as the functional model's are.
/// </summary>
public sealed unsafe class VerilatedAccelerator : IAcceleratorDevice
{
    private static readonly ConcurrentDictionary<string, Api> Libraries = new(StringComparer.Ordinal);
    private readonly Api _api;
    private readonly int _programDepth;
    private nint _handle;

    private VerilatedAccelerator(Api api, nint handle, long externalBytes, int programDepth, int cores, long coreBytes)
    {
        _api = api;
        _handle = handle;
        ExternalBytes = externalBytes;
        _programDepth = programDepth;
        Cores = cores;
        CoreBytes = coreBytes;
    }

    /// <summary>Renders and builds (or finds built) the accelerator for <paramref name="buffers"/>, and creates one with that much external memory.</summary>
    public static VerilatedAccelerator Create(OnChipBuffers buffers, long externalBytes, MemoryPort? port = null) =>
        Create(AcceleratorRtl.For(buffers), externalBytes, port);

    /// <summary>
    /// Builds (or finds built) the accelerator <paramref name="rtl"/> describes, and creates one with that much external
    /// memory behind <paramref name="port"/> and a channel of <paramref name="coreBytes"/> behind <paramref name="corePort"/> per core.
    /// </summary>
    public static VerilatedAccelerator Create(AcceleratorRtl rtl, long externalBytes, MemoryPort? port = null, long coreBytes = 0, CorePort? corePort = null) =>
        Create(rtl.Render(), rtl.ProgramDepth, externalBytes, port, rtl.Cores, coreBytes, corePort);

    /// <summary>A core port of 32 cycles' latency and a beat a cycle: what the tests assume unless they pick one.</summary>
    public static CorePort DefaultCorePort(MatrixCoreDesign cores) => new(32, cores.BeatBytes);

    /// <summary>
    /// Builds (or finds built) rendered accelerator RTL (file name to text, top <see cref="AcceleratorRtl.Top"/>, with an
    /// instruction memory of <paramref name="programDepth"/> and matrix cores as <paramref name="cores"/> describes; an
    /// artifact's), and creates one with that much system memory and core channels.
    /// </summary>
    public static VerilatedAccelerator Create(IReadOnlyDictionary<string, string> rtl, int programDepth, long externalBytes, MemoryPort? port,
        MatrixCoreDesign cores, long coreBytes, CorePort? corePort)
    {
        port = (port ?? MemoryPort.Default).Checked();
        corePort = (corePort ?? DefaultCorePort(cores)).Checked(cores.BeatBytes);
        if (externalBytes < 0) throw new CodesignException($"fpga-sim: {externalBytes} bytes of external memory");
        if (coreBytes < 0) throw new CodesignException($"fpga-sim: {coreBytes} bytes of a core's channel");
        var shell = new[] { "accelerator_shell.cpp", "axi_memory_model.h", "port_bits.h" }.ToDictionary(name => name, ShellSource, StringComparer.Ordinal);
        shell["accelerator_config.h"] = AcceleratorRtl.ShellConfig(cores);
        var api = Libraries.GetOrAdd(Verilator.BuildSharedLibrary(rtl, shell, AcceleratorRtl.Top), Api.Load);
        if (api.CoreCount() != cores.Cores) throw new CodesignException($"fpga-sim: the simulator has {api.CoreCount()} cores; the design {cores.Cores}");
        nint handle = api.Create((ulong)externalBytes, (uint)port.LatencyCycles, port.BytesPerCycle, (ulong)coreBytes, (uint)corePort.LatencyCycles, corePort.BytesPerCycle);
        if (handle == 0) throw new CodesignException($"fpga-sim: the simulator could not allocate {externalBytes} bytes of external memory and {cores.Cores} x {coreBytes} of core channels");
        return new VerilatedAccelerator(api, handle, externalBytes, programDepth, cores.Cores, coreBytes);
    }

    private static string ShellSource(string name)
    {
        using var stream = typeof(VerilatedAccelerator).Assembly.GetManifestResourceStream($"testbenches/{name}")
            ?? throw new CodesignException($"fpga-sim: testbenches/{name} is not embedded in this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public long ExternalBytes { get; }

    public void Write(long address, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
            if (address < 0 || _api.Write(Handle, (ulong)address, p, (ulong)data.Length) != 0)
                throw new CodesignException($"fpga-sim: {data.Length} bytes at byte {address} are outside the {ExternalBytes}-byte external memory");
    }

    public void Read(long address, Span<byte> data)
    {
        fixed (byte* p = data)
            if (address < 0 || _api.Read(Handle, (ulong)address, p, (ulong)data.Length) != 0)
                throw new CodesignException($"fpga-sim: {data.Length} bytes at byte {address} are outside the {ExternalBytes}-byte external memory");
    }

    public int Cores { get; }
    public long CoreBytes { get; }

    public void WriteCore(int core, long address, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
            if (address < 0 || core < 0 || _api.WriteCore(Handle, (uint)core, (ulong)address, p, (ulong)data.Length) != 0)
                throw new CodesignException($"fpga-sim: {data.Length} bytes at byte {address} are outside core {core}'s {CoreBytes}-byte channel (of {Cores} cores)");
    }

    public void ReadCore(int core, long address, Span<byte> data)
    {
        fixed (byte* p = data)
            if (address < 0 || core < 0 || _api.ReadCore(Handle, (uint)core, (ulong)address, p, (ulong)data.Length) != 0)
                throw new CodesignException($"fpga-sim: {data.Length} bytes at byte {address} are outside core {core}'s {CoreBytes}-byte channel (of {Cores} cores)");
    }

    /// <summary>Bytes each core's channel has delivered since the simulator was created.</summary>
    public long[] CoreBytesRead()
    {
        var bytes = new long[Cores];
        fixed (long* p = bytes) _api.CoreBytesRead(Handle, (ulong*)p, (uint)Cores);
        return bytes;
    }

    /// <summary>The most cycles a run may take before it is stopped as hung.</summary>
    public long CycleLimit { get; set; } = 20_000_000_000;

    public AcceleratorRun Run(IReadOnlyList<Instruction> program)
    {
        if (program.Count > _programDepth)
            throw new CodesignException($"fpga-sim: a program of {program.Count} instructions does not fit the {_programDepth}-instruction memory");
        var words = new uint[program.Count * Instruction.Words];
        for (int i = 0; i < program.Count; i++) program[i].Encode(words.AsSpan(i * Instruction.Words, Instruction.Words));
        fixed (uint* w = words) _api.LoadProgram(Handle, w, (uint)program.Count);
        ulong cycles;
        uint pc, fault;
        int status = _api.Run(Handle, (ulong)CycleLimit, &cycles, &pc, &fault);
        string at = pc < program.Count ? $"instruction {pc} ({program[(int)pc]})" : $"instruction {pc}";
        if (status == 2) throw new CodesignException($"fpga-sim: the program did not reach END within {CycleLimit} cycles (at {at})");
        if (status != 0) throw new CodesignException($"fpga-sim: {at}: {FaultMessage(fault, program.Count)}");
        var perInstruction = new long[program.Count];
        fixed (long* p = perInstruction) _api.InstructionCycles(Handle, (ulong*)p, (uint)program.Count);
        return new AcceleratorRun(AcceleratorRun.Count(program), (long)cycles, perInstruction);
    }

    /// <summary>The RTL's fault codes (hdl-templates/accelerator.sv.sbn), and the memory's refusal.</summary>
    private static string FaultMessage(uint fault, int count) => fault switch
    {
        1 => "not executed by the accelerator RTL: a format or function it lacks, or operands it refuses",
        2 => "outside an on-chip buffer",
        3 => "the accelerator has no such buffer",
        4 => "the RTL gathers rows of whole 16-byte units",
        5 => "the destination overlaps a source at another offset",
        6 => $"the program of {count} instructions has no END",
        7 => "the matrix is larger than the matrix engine's code, scale or index buffer",
        16 => "the external memory refused an access outside it",
        _ => $"fault {fault}",
    };

    private nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(VerilatedAccelerator));

    public void Dispose()
    {
        if (_handle == 0) return;
        _api.Destroy(_handle);
        _handle = 0;
    }

    /// <summary>The C API of a loaded simulator library.</summary>
    private sealed class Api
    {
        public delegate* unmanaged<ulong, uint, double, ulong, uint, double, nint> Create;
        public delegate* unmanaged<int> CoreCount;
        public delegate* unmanaged<nint, uint, ulong, byte*, ulong, int> WriteCore;
        public delegate* unmanaged<nint, uint, ulong, byte*, ulong, int> ReadCore;
        public delegate* unmanaged<nint, ulong*, uint, void> CoreBytesRead;
        public delegate* unmanaged<nint, void> Destroy;
        public delegate* unmanaged<nint, ulong, byte*, ulong, int> Write;
        public delegate* unmanaged<nint, ulong, byte*, ulong, int> Read;
        public delegate* unmanaged<nint, uint*, uint, void> LoadProgram;
        public delegate* unmanaged<nint, ulong, ulong*, uint*, uint*, int> Run;
        public delegate* unmanaged<nint, ulong*, uint, void> InstructionCycles;

        public static Api Load(string path)
        {
            nint library = NativeLibrary.Load(path);
            nint Export(string name) => NativeLibrary.TryGetExport(library, name, out var f) ? f
                : throw new CodesignException($"fpga-sim: {path} does not export {name}");
            return new Api
            {
                Create = (delegate* unmanaged<ulong, uint, double, ulong, uint, double, nint>)Export("codesign_accel_create"),
                CoreCount = (delegate* unmanaged<int>)Export("codesign_accel_cores"),
                WriteCore = (delegate* unmanaged<nint, uint, ulong, byte*, ulong, int>)Export("codesign_accel_write_core"),
                ReadCore = (delegate* unmanaged<nint, uint, ulong, byte*, ulong, int>)Export("codesign_accel_read_core"),
                CoreBytesRead = (delegate* unmanaged<nint, ulong*, uint, void>)Export("codesign_accel_core_bytes"),
                Destroy = (delegate* unmanaged<nint, void>)Export("codesign_accel_destroy"),
                Write = (delegate* unmanaged<nint, ulong, byte*, ulong, int>)Export("codesign_accel_write"),
                Read = (delegate* unmanaged<nint, ulong, byte*, ulong, int>)Export("codesign_accel_read"),
                LoadProgram = (delegate* unmanaged<nint, uint*, uint, void>)Export("codesign_accel_load_program"),
                Run = (delegate* unmanaged<nint, ulong, ulong*, uint*, uint*, int>)Export("codesign_accel_run"),
                InstructionCycles = (delegate* unmanaged<nint, ulong*, uint, void>)Export("codesign_accel_instruction_cycles"),
            };
        }
    }
}
