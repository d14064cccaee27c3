using Codesign.Backends.Fpga.Aot;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Performance;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Graphs;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Devices;

/// <summary>
/// A causal-LM session on a simulated accelerator from an fpga artifact: the Verilated RTL ("fpga-sim") or the
/// functional model of its instruction set ("fpga-model"). Weights, the KV cache and every activation live in the
/// accelerator's memories; a prompt goes through in prefill chunks of up to the artifact's chunk of tokens, each
/// generated token in a decode step. <see cref="Tally"/> counts each step's cycles.
/// </summary>
public sealed class FpgaSession : GraphSession, IDisposable
{
    public const string RtlDevice = "fpga-sim";
    public const string FunctionalDevice = "fpga-model";

    private readonly IAcceleratorDevice _device;
    private readonly FpgaStepRunner _runner;

    public FpgaSession(Graph graph, FpgaArtifactImage image, FpgaSimulator simulator) : base(graph, image.Programs.MaxContext)
    {
        _device = image.Open(simulator);
        _runner = image.Runner(_device);
        Tally = new CycleTally(image.PerformanceModel);
        DeviceName = simulator == FpgaSimulator.Rtl ? RtlDevice : FunctionalDevice;
        Device = image.Section.Device;
        Port = image.Port;
    }

    public string DeviceName { get; }
    /// <summary>The device description the artifact was compiled for.</summary>
    public FpgaDevice Device { get; }
    /// <summary>The memory port the simulation and the cycle predictions run behind.</summary>
    public MemoryPort Port { get; }
    public CycleTally Tally { get; }
    /// <summary>The most prompt tokens a step takes (1: the artifact has decode programs only).</summary>
    public int ChunkTokens => _runner.ChunkTokens;

    /// <summary>The simulator a device name selects, or null for a name that is not an fpga device.</summary>
    public static FpgaSimulator? Simulator(string device) => device switch
    {
        RtlDevice => FpgaSimulator.Rtl,
        FunctionalDevice => FpgaSimulator.Functional,
        _ => null,
    };

    protected override float[] Run(int[] tokens, int[] positions)
    {
        var logits = new float[tokens.Length * VocabSize];
        for (int t = 0; t < tokens.Length;)
        {
            int n = Math.Min(_runner.ChunkTokens, tokens.Length - t);
            _runner.Step(tokens.AsSpan(t, n), positions[t + n - 1] + 1).CopyTo(logits.AsSpan(t * VocabSize));
            Tally.Add(_runner.LastProgram!, _runner.LastRun!, n);
            t += n;
        }
        return logits;
    }

    public void Dispose() => _device.Dispose();
}
