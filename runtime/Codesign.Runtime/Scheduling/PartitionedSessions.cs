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
        GpuDevice? gpu = null;
        KernelLauncher? launcher = null;
        var runners = new List<ISegmentRunner>();
        try
        {
            DevicePlacement placed;
            if (placement == Auto)
            {
                gpu = GpuDevice.Open(GpuAcceleratorKind.Auto, notice);
                placed = CostModelPlacer.Place(graph, weights, [DeviceProfiles.Cpu, DeviceProfiles.Gpu(gpu)]);
            }
            else
            {
                placed = PlacementSpec.Parse(placement, Devices).Place(graph);
            }
            var plan = GraphPartitioner.Split(placed);
            foreach (var segment in plan.Segments)
            {
                switch (segment.Device)
                {
                    case "interpreter":
                        runners.Add(new InterpreterSegmentRunner(new ReferenceInterpreter(segment.Graph, weights)));
                        break;
                    case "cpu":
                        launcher ??= new KernelLauncher(threads > 0 ? threads : Environment.ProcessorCount);
                        runners.Add(new CpuSegmentRunner(CpuProgram.Compile(segment.Graph, weights, lut: lut, launcher: launcher)));
                        break;
                    case "gpu":
                        gpu ??= GpuDevice.Open(GpuAcceleratorKind.Auto, notice);
                        runners.Add(new GpuSegmentRunner(GpuProgram.Compile(segment.Graph, weights, gpu)));
                        break;
                    default:
                        throw new CodesignException($"placement '{placement}': no runner for device '{segment.Device}'");
                }
            }
            if (gpu is not null && !plan.Segments.Any(s => s.Device == "gpu"))
            {
                gpu.Dispose();
                gpu = null;
            }
            return new PartitionedSession(plan, runners, new SharedDevices(gpu, launcher));
        }
        catch
        {
            foreach (var r in runners) r.Dispose();
            launcher?.Dispose();
            gpu?.Dispose();
            throw;
        }
    }

    private sealed class SharedDevices(GpuDevice? gpu, KernelLauncher? launcher) : IDisposable
    {
        public void Dispose()
        {
            launcher?.Dispose();
            gpu?.Dispose();
        }
    }
}
