namespace Codesign.Testing;

/// <summary>Where the repository, the shared fixtures and scratch space are, seen from a test assembly.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The tiny-llama-a fixture: ../shared/fixtures beside the checkout, else the copy in examples/.</summary>
    public static string TinyLlama
    {
        get
        {
            string shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "tiny-llama-a"));
            return Directory.Exists(shared) ? shared : Path.Combine(RepoRoot, "examples", "tiny-llama-a");
        }
    }

    public static string TinyLlamaReference => Path.Combine(TinyLlama, "reference.safetensors");

    /// <summary>A recipe from examples/recipes by name, without ".json".</summary>
    public static string ExampleRecipe(string name) => Path.Combine(RepoRoot, "examples", "recipes", name + ".json");

    /// <summary>A fresh empty directory under the test run's temp folder.</summary>
    public static string NewScratchDirectory(string label)
    {
        string dir = Path.Combine(Path.GetTempPath(), "codesign-tests", $"{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Codesign.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find Codesign.sln above " + AppContext.BaseDirectory);
    }
}
