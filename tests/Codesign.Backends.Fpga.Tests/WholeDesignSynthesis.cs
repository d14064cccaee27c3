using Codesign.Backends.Fpga.Compilation;
using Codesign.Backends.Fpga.Cores;
using Codesign.Backends.Fpga.Verification;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>
/// tiny-llama-a's design on two 16-byte matrix cores, synthesised whole by Yosys: the check of the fit's estimate
/// (<see cref="WholeDesignSynthesisTests"/>), whose counts the CLI's Yosys test then finds cached. The synthesis takes
/// 10–15 minutes on one core while the Verilator tests leave the other idle as they simulate, so
/// <see cref="SynthesisInTheBackground"/> starts it when the assembly's tests begin and the check waits for it.
/// </summary>
internal static class WholeDesignSynthesis
{
    public static readonly AcceleratorShape Shape = new(2, 16);

    private static readonly CancellationTokenSource Cancel = new();
    private static readonly Lazy<Task<(FpgaCompilation Model, ResourceReport Report)>> Synthesis = new(() => Task.Run(() =>
    {
        var model = FunctionalAcceleratorTests.Compile("fpga-w8a8", maxContext: 16, Shape);
        return (model, YosysSynthesis.Synthesize(model.Rtl.Render(), Rtl.AcceleratorRtl.Top, "xcup", Cancel.Token));
    }));

    public static void Start() => _ = Synthesis.Value;

    public static (FpgaCompilation Model, ResourceReport Report) Result() => Synthesis.Value.GetAwaiter().GetResult();

    /// <summary>Kills a synthesis still running when the tests end (a run that did not include the check).</summary>
    public static void StopUnfinished()
    {
        if (!Synthesis.IsValueCreated || Synthesis.Value.IsCompleted) return;
        Cancel.Cancel();
        try
        {
            Synthesis.Value.Wait();
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
        }
    }
}

/// <summary>Starts <see cref="WholeDesignSynthesis"/> beside the assembly's other tests, and stops it with them.</summary>
[SetUpFixture]
public class SynthesisInTheBackground
{
    [OneTimeSetUp]
    public void Start()
    {
        if (YosysSynthesis.IsInstalled) WholeDesignSynthesis.Start();
    }

    [OneTimeTearDown]
    public void Stop() => WholeDesignSynthesis.StopUnfinished();
}
