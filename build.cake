// Codesign build tasks. Run through the local tool manifest:
//   dotnet tool restore && dotnet cake --target=Test
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var solution = "./Codesign.sln";

Task("Tools")
    .Description("Installs the ANTLR tool jar (npm) that generates the IR parser at build time.")
    .Does(() =>
{
    if (!FileExists("./node_modules/antlr4ng-cli/package.json"))
    {
        var exit = StartProcess("npm", new ProcessSettings { Arguments = "ci --no-audit --no-fund" });
        if (exit != 0) throw new Exception($"npm ci failed with exit code {exit}");
    }
});

Task("Build")
    .IsDependentOn("Tools")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .Description("Runs every test project; each prints its own 'Passed!/Failed!' summary line.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var failed = new List<string>();
    foreach (var project in GetFiles("./tests/**/*.Tests.csproj").OrderBy(p => p.FullPath))
    {
        try
        {
            DotNetTest(project.FullPath, new DotNetTestSettings { Configuration = configuration, NoBuild = true });
        }
        catch (Exception e)
        {
            Error(e.Message);
            failed.Add(project.GetFilenameWithoutExtension().ToString());
        }
    }
    if (failed.Count > 0) throw new Exception("failing test projects: " + string.Join(", ", failed));
});

Task("Rtl")
    .Description("The fpga RTL: renders every template, lints it with verilator -Wall, builds each block's Verilator testbench and runs them against the reference interpreter, and synthesises with Yosys (the fpga test project's Verilator and Yosys tests).")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetTest("./tests/Codesign.Backends.Fpga.Tests/Codesign.Backends.Fpga.Tests.csproj",
        new DotNetTestSettings { Configuration = configuration, NoBuild = true, Filter = "TestCategory=Verilator|TestCategory=Yosys|FullyQualifiedName~Rtl" });
});

Task("Example")
    .Description("Generates text from the embedded example model.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./compiler/Codesign.Cli/Codesign.Cli.csproj",
        new ProcessArgumentBuilder()
            .Append("run").AppendQuoted("examples/tiny-llama-a")
            .Append("--prompt").AppendQuoted("Sinners can repent, but stupid is forever.")
            .Append("--max-tokens").Append("48").Append("--ignore-eos"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

Task("Bench")
    .Description("Runs the benchmark driver and prints its tables.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./benchmarks/Codesign.Benchmarks/Codesign.Benchmarks.csproj", new ProcessArgumentBuilder(),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

Task("Pack")
    .Description("Packs Codesign.Runtime and the libraries it depends on as NuGet packages into out/nuget.")
    .IsDependentOn("Build")
    .Does(() =>
{
    foreach (var project in new[] { "ir/Codesign.IR", "compiler/Codesign.Compiler", "backends/Codesign.Backends.Cpu", "backends/Codesign.Backends.Gpu", "runtime/Codesign.Runtime" })
        DotNetPack($"./{project}/{System.IO.Path.GetFileName(project)}.csproj", new DotNetPackSettings { Configuration = configuration, OutputDirectory = "./out/nuget", NoBuild = true });
});

Task("ServeLoad")
    .Description("Load-tests `codesign serve` on localhost with 1, 4 and 16 clients: the serving table of benchmarks/RESULTS.md.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./benchmarks/Codesign.Benchmarks/Codesign.Benchmarks.csproj", new ProcessArgumentBuilder().Append("serve-load"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

Task("Accuracy")
    .Description("Evaluates every recipe in examples/recipes on tiny-llama-a: the accuracy table of benchmarks/RESULTS.md.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./benchmarks/Codesign.Benchmarks/Codesign.Benchmarks.csproj", new ProcessArgumentBuilder().Append("accuracy"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });
});

RunTarget(target);
