using System.Globalization;
using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Devices;
using Codesign.Backends.Fpga.Simulation;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>Resources a design (or part of one) takes, as Yosys' synth_xilinx counts them.</summary>
public sealed record ResourceEstimate(long Dsp, long Lut, long Ff, double Bram36, long Uram)
{
    public static ResourceEstimate operator +(ResourceEstimate a, ResourceEstimate b) => new(a.Dsp + b.Dsp, a.Lut + b.Lut, a.Ff + b.Ff, a.Bram36 + b.Bram36, a.Uram + b.Uram);
    public static ResourceEstimate operator *(long n, ResourceEstimate a) => new(n * a.Dsp, n * a.Lut, n * a.Ff, n * a.Bram36, n * a.Uram);

    public string Summary => string.Create(CultureInfo.InvariantCulture, $"DSP {Dsp}, LUT {Lut}, FF {Ff}, BRAM36 {Bram36}, URAM {Uram}");

    /// <summary>The resources this takes more of than <paramref name="fraction"/> of <paramref name="device"/>'s, as "LUT 1400000 > 1303680".</summary>
    public IReadOnlyList<string> Exceeding(FpgaDevice device, double fraction = 1)
    {
        var r = device.Resources;
        var over = new List<string>();
        void Check(string name, double used, long available)
        {
            if (used > available * fraction) over.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {used} > {available * fraction:0}"));
        }
        Check("DSP", Dsp, r.Dsp);
        Check("LUT", Lut, r.Lut);
        Check("FF", Ff, r.Ff);
        Check("BRAM36", Bram36, r.Bram36);
        Check("URAM", Uram, r.Uram);
        return over;
    }
}

/// <summary>
/// Sizes the matrix cores for a device: the accelerator costs what its shared part costs plus a core's cost per core,
/// and the configuration chosen is the one whose cores run the model's matrices in the fewest cycles (<see cref="MatrixWork"/>:
/// the longer of their bytes over the ports and their beats at one a cycle, so a sparse core whose beats are half empty
/// counts as such) while the whole stays within <see cref="Utilisation"/> of every resource (placement and routing need
/// the rest). The costs are Yosys
/// 0.23 counts (<c>synth_xilinx -family xcup</c>, measured 2026-12-07 on the 2-core CI container; Yosys packs only
/// multipliers into DSP slices, so LUT and FF are upper bounds of what Vivado would use):
/// <list type="bullet">
/// <item>a core, synthesised alone (<c>accel_core</c> as rendered for LLaMA-2-7B's matrices: code banks of 11 008
/// codes, rings for 86 groups a row), for each beat and lane width, dense and with the N:M offset reader and a 2:4 or
/// 2:4-and-4:8 MUX;</item>
/// <item>the shared logic: the accelerator rendered for LLaMA-2-7B's decode buffers with one dense 16-byte core,
/// less that core and less its block RAM (DSP 161, LUT 173 498, FF 8 765, BRAM36 992 in all), less the binary32 engine
/// (<c>accel_fp32_matrix</c> alone) where a model has no f32 matrix or attention off the cores;</item>
/// <item>the shared block RAM, from the buffers' bits: the on-chip buffers (two read ports each) and the instruction
/// memory, at the 1.63 BRAM36 per 36 Kb that design took;</item>
/// <item>the single-port matrix engine (<c>accel_matrix</c> alone, 32-lane chain, LUT-mpGEMM, block sparsity), where a
/// model needs it.</item>
/// </list>
/// The fit is checked by the <c>Yosys</c>-category tests: whole designs of one and two cores against
/// <see cref="Estimate"/>.
/// </summary>
public static class CoreFit
{
    /// <summary>The share of each resource a chosen configuration may take.</summary>
    public const double Utilisation = 0.75;

    /// <summary>A configuration, its estimated resources and the bytes a cycle its cores can stream.</summary>
    public sealed record Choice(AcceleratorShape Shape, ResourceEstimate Estimate, double StreamBytesPerCycle);

    /// <summary>
    /// One core (Yosys, <c>accel_core</c> alone, measured 2026-12-07 with attention's modes) by its port's beat, its lanes'
    /// beat and its sparse MUX: 2:4 only, or 2:4 and 4:8 (the eight-way inputs). A 64-byte port with 64 lanes is the 2:4
    /// core for HBM: its beat of 64 kept codes spans a g128 group, so it runs as many columns a cycle as 128 lanes would.
    /// </summary>
    private static readonly Dictionary<(int Beat, int LaneBytes, SparseMux Mux), ResourceEstimate> MeasuredCores = new()
    {
        [(16, 16, SparseMux.None)] = new(37, 12_996, 3_661, 4, 0),
        [(16, 16, SparseMux.TwoOfFour)] = new(37, 15_736, 4_094, 6, 0),
        [(16, 16, SparseMux.TwoOfFourAndFourOfEight)] = new(37, 17_818, 4_094, 6, 0),
        [(32, 32, SparseMux.None)] = new(69, 17_956, 5_203, 8, 0),
        [(32, 32, SparseMux.TwoOfFour)] = new(69, 22_948, 5_892, 12, 0),
        [(32, 32, SparseMux.TwoOfFourAndFourOfEight)] = new(69, 30_196, 5_892, 12, 0),
        [(64, 64, SparseMux.None)] = new(133, 24_236, 8_243, 7.5, 0),
        [(64, 64, SparseMux.TwoOfFour)] = new(133, 33_625, 9_444, 15, 0),
        [(64, 64, SparseMux.TwoOfFourAndFourOfEight)] = new(133, 46_514, 9_444, 15, 0),
        [(64, 32, SparseMux.TwoOfFour)] = new(69, 26_083, 7_175, 19, 0),
        [(64, 32, SparseMux.TwoOfFourAndFourOfEight)] = new(69, 32_694, 7_175, 19, 0),
    };

    /// <summary>Whether a core of this shape and MUX has a measured cost (the fit considers only those).</summary>
    public static bool Measured(AcceleratorShape shape, SparseMux mux) => MeasuredCores.ContainsKey((shape.BeatBytes, shape.LaneBytes, mux));

    /// <summary>One core of <paramref name="shape"/> with <paramref name="mux"/>.</summary>
    public static ResourceEstimate MeasuredCore(AcceleratorShape shape, SparseMux mux) =>
        MeasuredCores.TryGetValue((shape.BeatBytes, shape.LaneBytes, mux), out var cost) ? cost
        : throw new CodesignException($"fpga: no measured cost for a core of {shape.BeatBytes}-byte beats and {shape.Lanes} lanes{(mux == SparseMux.None ? "" : " with an N:M MUX")}");

    /// <summary>
    /// Everything but the cores and the block RAM: controller, load unit, special-function unit, binary32 engine,
    /// quantizer, writeback. LLaMA-2-7B's decode design less its core, plus what widening the SFU to four lanes added
    /// (Yosys on each block alone, before and after: element-wise DSP 25 → 88, LUT 8 097 → 31 317, FF 225 → 288; rope DSP
    /// 16 → 40, LUT 15 026 → 32 696, FF 352 → 450; rms_norm DSP 10 → 22, LUT 5 996 → 11 344, FF 898 → 900).
    /// </summary>
    public static ResourceEstimate MeasuredSharedLogic { get; } =
        new ResourceEstimate(161 - 37, 173_498 - 11_832, 8_765 - 3_110, 0, 0) + new ResourceEstimate(63 + 24 + 12, 23_220 + 17_670 + 5_348, 63 + 98 + 2, 0, 0);

    /// <summary>BRAM36 per 36 Kb of on-chip buffer and instruction memory, as Yosys mapped LLaMA-2-7B's decode design (two read ports, 128- and 160-bit words).</summary>
    public const double BramPerBlock = 1.63;

    /// <summary>The single-port matrix engine, rendered for LLaMA-2-7B's activation buffer (Yosys, <c>accel_matrix</c> alone).</summary>
    public static ResourceEstimate MeasuredLegacyEngine { get; } = new(80, 121_513, 6_550, 11, 0);

    /// <summary>
    /// The binary32 engine (<c>accel_fp32_matrix</c> alone, LLaMA-2-7B's decode buffers; Yosys 2026-12-07), part of
    /// <see cref="MeasuredSharedLogic"/>: a design without f32 matrices or attention off the cores leaves it out.
    /// </summary>
    public static ResourceEstimate MeasuredBinary32Engine { get; } = new(21, 99_526, 2_761, 0, 0);

    /// <summary>BRAM36 an instruction memory of <paramref name="depth"/> 160-bit instructions takes, at <see cref="BramPerBlock"/>.</summary>
    public static double ProgramBram(int depth) => Bram(depth * 160.0);

    /// <summary>BRAM36 that <paramref name="bits"/> of buffer take, at <see cref="BramPerBlock"/> per 36 Kb.</summary>
    private static double Bram(double bits) => Math.Ceiling(BramPerBlock * bits / 36_864);

    /// <summary>
    /// The shared part for a design with these buffers and instruction memory, the single-port engine where
    /// <paramref name="legacyMatrix"/>, and the binary32 engine where <paramref name="binary32Engine"/>.
    /// </summary>
    public static ResourceEstimate Shared(OnChipBuffers buffers, int programDepth, bool legacyMatrix, bool binary32Engine = true)
    {
        double bits = ((double)buffers.ActivationUnits + 2.0 * buffers.KvUnits + buffers.ParameterUnits) * 128 + (double)programDepth * 160;
        var shared = MeasuredSharedLogic + new ResourceEstimate(0, 0, 0, Bram(bits), 0);
        if (!binary32Engine) shared += -1 * MeasuredBinary32Engine;
        return legacyMatrix ? shared + MeasuredLegacyEngine : shared;
    }

    public static ResourceEstimate Estimate(AcceleratorShape shape, SparseMux mux, ResourceEstimate shared) => shared + (long)shape.Cores * MeasuredCore(shape, mux);

    /// <summary>
    /// The configuration that runs <paramref name="work"/> (the model's matrices on the cores; none: a stream of dense
    /// weights) in the fewest cycles within <see cref="Utilisation"/> of <paramref name="device"/>'s resources, by
    /// <see cref="MatrixWork.Cycles"/>; among equals, the fewest LUTs.
    /// </summary>
    public static Choice For(FpgaDevice device, SparseMux mux, ResourceEstimate shared, IReadOnlyList<MatrixWork>? work = null)
    {
        work ??= [MatrixWork.DenseStream];
        Choice? best = null;
        double bestCycles = double.PositiveInfinity;
        foreach (int beat in AcceleratorShape.Beats)
        foreach (int laneBytes in AcceleratorShape.Beats.Where(b => b <= beat))
            for (int cores = 1; cores <= AcceleratorShape.MaxCores; cores *= 2)
            {
                var shape = new AcceleratorShape(cores, beat, laneBytes == beat ? null : laneBytes);
                if (!Measured(shape, mux)) continue;
                var estimate = Estimate(shape, mux, shared);
                if (estimate.Exceeding(device, Utilisation).Count > 0) continue;
                var port = CorePort.Of(device, shape);
                double cycles = work.Sum(m => m.Cycles(shape, port.BytesPerCycle));
                if (best is null || cycles < bestCycles * (1 - 1e-9) || (cycles <= bestCycles * (1 + 1e-9) && estimate.Lut < best.Estimate.Lut))
                {
                    best = new Choice(shape, estimate, cores * port.BytesPerCycle);
                    bestCycles = cycles;
                }
            }
        return best ?? throw new CodesignException(
            $"fpga: even one core ({Estimate(AcceleratorShape.Minimal, mux, shared).Summary}) exceeds {Utilisation:P0} of the {device.Name}'s resources");
    }

    /// <summary>Refuses a configuration whose estimate exceeds <paramref name="device"/>'s resources, naming each.</summary>
    public static void Check(AcceleratorShape shape, SparseMux mux, ResourceEstimate shared, FpgaDevice device)
    {
        var over = Estimate(shape, mux, shared).Exceeding(device);
        if (over.Count > 0)
            throw new CodesignException($"fpga: {shape} do not fit the {device.Name} ({device.Part}): estimated {string.Join(", ", over)} (shared {shared.Summary}; a core {MeasuredCore(shape, mux).Summary})");
    }
}

/// <summary>
/// A matrix the cores run, as the fit weighs it: <see cref="N"/> rows of <see cref="K"/> columns in groups of
/// <see cref="GroupLength"/>, <see cref="Bits"/>-bit codes, N:M with M = 2N where <see cref="Sparse"/>, <see cref="Bytes"/>
/// in memory, run <see cref="Times"/> a step.
/// </summary>
public sealed record MatrixWork(int N, int K, int Bits, int GroupLength, bool Sparse, long Bytes, int Times = 1)
{
    /// <summary>A stand-in workload where none is known: a 4096-square W4 g128 matrix.</summary>
    public static MatrixWork DenseStream { get; } = new(4096, 4096, 4, 128, false, 4096L * 4096 / 2 + 4096L * 32 * 3);

    /// <summary>
    /// About the cycles the cores take for it (the performance model has the exact figure): the longer of its bytes over
    /// the cores' ports and each core's beats (a beat holds at most one group's codes, up to the lanes: twice as many
    /// columns where N:M), at a beat a cycle.
    /// </summary>
    public double Cycles(AcceleratorShape shape, double portBytesPerCycle)
    {
        int lanes = Bits == 8 ? shape.Lanes / 2 : shape.Lanes, span = Sparse ? 2 * lanes : lanes;
        int group = Math.Clamp(GroupLength, 1, K);
        long beatsPerRow = (long)(K / group) * ((group + span - 1) / span) + (K % group == 0 ? 0 : (K % group + span - 1) / span);
        double compute = (double)((N + shape.Cores - 1) / shape.Cores) * beatsPerRow;
        double memory = Bytes / (shape.Cores * portBytesPerCycle);
        return Times * Math.Max(compute, memory);
    }
}
