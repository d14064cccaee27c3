using System.Reflection;
using System.Runtime.Loader;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

// Runs the gpu backend's NUnit suite on a CUDA machine that has no .NET SDK: scripts/publish-gpu-bench.sh publishes this
// runner self-contained beside the benchmark driver and copies Codesign.Backends.Gpu.Tests.dll in; NUnit's own framework
// runner then runs it with CODESIGN_GPU_TESTS=cuda (the harness opens the CUDA device, not the CPU accelerator) and prints
// each failure and the summary line dotnet test prints.
// Usage: Codesign.GpuTestRunner [TEST_NAME_SUBSTRING]
string folder = AppContext.BaseDirectory;
// The test assembly and its references (ILGPU, the backend) come from the benchmark driver's files in the same folder.
AssemblyLoadContext.Default.Resolving += (context, name) =>
    Path.Combine(folder, name.Name + ".dll") is var path && File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
if (Environment.GetEnvironmentVariable("CODESIGN_GPU_TESTS") is null) Environment.SetEnvironmentVariable("CODESIGN_GPU_TESTS", "cuda");
var tests = Assembly.LoadFrom(Path.Combine(folder, "Codesign.Backends.Gpu.Tests.dll"));
var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
runner.Load(tests, new Dictionary<string, object>());
var listener = new FailurePrinter();
var filter = args.Length > 0 ? new NameFilter(args[0]) : TestFilter.Empty;
var result = runner.Run(listener, filter);
int failed = result.FailCount + result.InconclusiveCount, passed = result.PassCount, skipped = result.SkipCount;
Console.WriteLine($"{(failed == 0 ? "Passed!" : "Failed!")}  - Failed: {failed}, Passed: {passed}, Skipped: {skipped}, Total: {failed + passed + skipped} - Codesign.Backends.Gpu.Tests.dll (CODESIGN_GPU_TESTS={Environment.GetEnvironmentVariable("CODESIGN_GPU_TESTS")})");
return failed == 0 ? 0 : 1;

/// <summary>Prints each failed test case with its message as it finishes.</summary>
internal sealed class FailurePrinter : ITestListener
{
    public void TestStarted(ITest test) { }

    public void TestFinished(ITestResult result)
    {
        if (!result.Test.IsSuite && result.ResultState.Status == TestStatus.Failed)
            Console.WriteLine($"  Failed {result.FullName}\n    {result.Message?.Replace("\n", "\n    ")}");
    }

    public void TestOutput(TestOutput output) { }

    public void SendMessage(TestMessage message) { }
}

/// <summary>Test cases whose full name contains a substring.</summary>
internal sealed class NameFilter(string part) : TestFilter
{
    public override bool Match(ITest test) => test.FullName.Contains(part, StringComparison.Ordinal);

    public override TNode AddToXml(TNode parentNode, bool recursive) => parentNode.AddElement("test", part);
}
