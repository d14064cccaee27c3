namespace Codesign.Testing;

/// <summary>Base for tests that write files: a fresh directory per test, removed afterwards.</summary>
public abstract class ScratchDirectoryTest
{
    protected string Scratch { get; private set; } = "";

    [SetUp]
    public void CreateScratchDirectory() => Scratch = TestPaths.NewScratchDirectory(GetType().Name);

    [TearDown]
    public void RemoveScratchDirectory()
    {
        if (Directory.Exists(Scratch)) Directory.Delete(Scratch, recursive: true);
    }
}
