using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// Verilator (Debian's package): lints generated RTL and builds a design with a C++ testbench into an executable.
/// Builds are cached by a hash of every source, so a design that did not change is built once per machine.
/// </summary>
public static class Verilator
{
    public const string Tool = "verilator";
    private const string Package = "verilator";
    private static readonly TimeSpan LintLimit = TimeSpan.FromMinutes(2);
    /// <summary>The environment variable that sets how long one Verilator build may take, in seconds.</summary>
    public const string BuildTimeoutVariable = "CODESIGN_VERILATOR_TIMEOUT";

    /// <summary>A build's limit unless <see cref="BuildTimeoutVariable"/> says otherwise: a large design on a loaded two-core machine takes minutes.</summary>
    public static readonly TimeSpan DefaultBuildLimit = TimeSpan.FromMinutes(30);

    /// <summary>How long one build may take: <see cref="BuildTimeoutVariable"/> seconds, or <see cref="DefaultBuildLimit"/>.</summary>
    public static TimeSpan BuildLimit
    {
        get
        {
            string? value = Environment.GetEnvironmentVariable(BuildTimeoutVariable);
            if (string.IsNullOrEmpty(value)) return DefaultBuildLimit;
            return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int seconds) && seconds is > 0 and <= 86_400
                ? TimeSpan.FromSeconds(seconds)
                : throw new CodesignException($"{BuildTimeoutVariable}={value}: a Verilator build limit in whole seconds, 1 to 86400");
        }
    }

    public static bool IsInstalled => ExternalTool.IsInstalled(Tool);

    /// <summary>Lints rendered RTL (file name to text) with <c>--lint-only -Wall</c>; any warning is an error naming the file and line.</summary>
    public static void Lint(IReadOnlyDictionary<string, string> rtl, string top)
    {
        using var scratch = new RtlScratch(Tool, rtl);
        var result = ExternalTool.Run(Tool, Package, ["--lint-only", "-Wall", "--top-module", top, .. scratch.Files], LintLimit);
        string messages = (result.Error + result.Output).Trim();
        if (result.ExitCode != 0 || messages.Length > 0)
            throw new CodesignException($"verilator --lint-only -Wall {top}: {(messages.Length > 0 ? messages : $"exit {result.ExitCode}")}");
    }

    /// <summary>
    /// Builds <paramref name="rtl"/> (file name to text) with the C++ testbench <paramref name="testbench"/> (its .cpp
    /// files are compiled, headers beside them included) into an executable, or returns the one built before from
    /// the same sources.
    /// </summary>
    public static string Build(IReadOnlyDictionary<string, string> rtl, IReadOnlyList<string> testbench, string top) =>
        Build(rtl, testbench.ToDictionary(p => Path.GetFileName(p), File.ReadAllText, StringComparer.Ordinal), top, sharedLibrary: false);

    /// <summary>
    /// Builds <paramref name="rtl"/> with C++ sources (file name to text: a C API over the Verilated model and the
    /// headers it includes) into a shared library the host loads, or returns the one built before from the same sources.
    /// </summary>
    public static string BuildSharedLibrary(IReadOnlyDictionary<string, string> rtl, IReadOnlyDictionary<string, string> sources, string top) =>
        Build(rtl, sources, top, sharedLibrary: true);

    private static string Build(IReadOnlyDictionary<string, string> rtl, IReadOnlyDictionary<string, string> testbenchTexts, string top, bool sharedLibrary)
    {
        string key = RtlScratch.Key(top + (sharedLibrary ? "\0lib" : ""), rtl.Concat(testbenchTexts));
        string directory = Path.Combine(Path.GetTempPath(), "codesign-verilator", $"{top}-{key}");
        string output = sharedLibrary ? $"libV{top}.so" : "V" + top;
        string built = Path.Combine(directory, "obj", output);
        if (File.Exists(built)) return built;

        string staging = $"{directory}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            var files = RtlScratch.WriteFiles(staging, rtl);
            var sources = RtlScratch.WriteFiles(staging, testbenchTexts).Where(f => f.EndsWith(".cpp", StringComparison.Ordinal));
            // A shared library is Verilator's executable linked with -shared, every object position-independent.
            string[] library = sharedLibrary ? ["-LDFLAGS", "-shared"] : [];
            // -O0: a whole accelerator builds about 20 % faster than at -O1, and a decode test's simulation took the same
            // wall time (tiny-llama-a with an int8 cache, 12 and 18 tokens: 20.4 and 28.3 s against 20.6 and 28.9 s).
            string cflags = (sharedLibrary ? "-fPIC " : "") + $"-O0 -I{staging}";
            var result = ExternalTool.Run(Tool, Package,
                ["--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", "--top-module", top, "--Mdir", "obj", "-o", output, "-CFLAGS", cflags, .. library, .. files, .. sources],
                BuildLimit, staging, limitSetting: $"the environment variable {BuildTimeoutVariable}, in seconds");
            if (result.ExitCode != 0)
                throw new CodesignException($"verilator could not build {top} with {string.Join(", ", testbenchTexts.Keys)}: {Tail(result.Error + result.Output)}");
            try
            {
                Directory.Move(staging, directory);
            }
            catch (IOException) when (File.Exists(built))
            {
                // Another process built the same design meanwhile; its build is as good as ours.
                Directory.Delete(staging, recursive: true);
            }
            return built;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text.Trim() : "…" + text[^4000..].Trim();
}
