using Codesign.Backends.Gpu.Execution;

/// <summary>
/// The device the gpu drivers run on: CUDA where ILGPU sees one, else ILGPU's CPU accelerator with a notice; with
/// CODESIGN_GPU_TESTS=cuda (as scripts/gpu-device-check.sh sets on a lent GPU) CUDA or a clear error at once, rather than
/// minutes of device time spent on the CPU accelerator.
/// </summary>
internal static class GpuBenchDevice
{
    public static GpuDevice Open()
    {
        try
        {
            return GpuDevice.Open(Environment.GetEnvironmentVariable("CODESIGN_GPU_TESTS") == "cuda" ? GpuAcceleratorKind.Cuda : GpuAcceleratorKind.Auto, Console.WriteLine);
        }
        catch (GpuUnavailableException e)
        {
            Console.Error.WriteLine(e.Message);
            Environment.Exit(2);
            throw;
        }
    }
}
