using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Backends.Gpu.Execution;
using Codesign.Compiler.Partitioning;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;

namespace Codesign.Runtime.Scheduling;

/// <summary>
/// Opens a session that runs a graph across devices: <c>--placement auto</c> lets <see cref="CostModelPlacer"/> choose
/// among the cpu and the gpu, a spec such as <c>matmul=gpu,*=cpu</c> forces a split (<see cref="PlacementSpec"/>).
/// Segments on the same device share it: one gpu context, one set of cpu worker threads.
/// </summary>
public static class PartitionedSessions
{
    public const string Auto = "auto";

    /// <summary>Devices a placement may name.</summary>
    public static readonly string[] Devices = ["interpreter", "cpu", "gpu"];

    public static PartitionedSession Open(string placement, Graph graph, IWeightStore weights, int threads = 0, LutChoice lut = LutChoice.Auto, Action<string>? notice = null)
    {
        var devices = new SegmentDevices(threads, notice);
        try
        {
            var plan = GraphPartitioner.Split(Place(placement, graph, weights, Devices, devices));
            return Assemble(plan, devices, segment => segment.Device switch
            {
                "interpreter" => new InterpreterSegmentRunner(new ReferenceInterpreter(segment.Graph, weights)),
                "cpu" => new CpuSegmentRunner(CpuProgram.Compile(segment.Graph, weights, lut: lut, launcher: devices.Launcher)),
                "gpu" => new GpuSegmentRunner(GpuProgram.Compile(segment.Graph, weights, devices.Gpu)),
                _ => throw new CodesignException($"placement '{placement}': no runner for device '{segment.Device}'"),
            });
        }
        catch
        {
            devices.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Places <paramref name="graph"/>'s nodes by <paramref name="placement"/> (<see cref="Auto"/>: the cost model over the
    /// cpu and this machine's gpu) on the devices <paramref name="allowed"/>.
    /// </summary>
    public static DevicePlacement Place(string placement, Graph graph, IWeightStore weights, IReadOnlyList<string> allowed, SegmentDevices devices) =>
        placement == Auto
            ? CostModelPlacer.Place(graph, weights, [DeviceProfiles.Cpu, DeviceProfiles.Gpu(devices.Gpu)])
            : PlacementSpec.Parse(placement, allowed).Place(graph);

    /// <summary>
    /// A session over <paramref name="plan"/> whose segments <paramref name="runnerFor"/> compiles or loads in order; on
    /// failure the runners made so far and <paramref name="devices"/> are disposed.
    /// </summary>
    internal static PartitionedSession Assemble(PartitionPlan plan, SegmentDevices devices, Func<GraphSegment, ISegmentRunner> runnerFor)
    {
        var runners = new List<ISegmentRunner>();
        try
        {
            foreach (var segment in plan.Segments) runners.Add(runnerFor(segment));
            devices.ReleaseUnused(plan);
            return new PartitionedSession(plan, runners, devices);
        }
        catch
        {
            foreach (var r in runners) r.Dispose();
            devices.Dispose();
            throw;
        }
    }
}
