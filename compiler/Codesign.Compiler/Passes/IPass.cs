namespace Codesign.Compiler.Passes;

/// <summary>One graph transformation with one entry point. Returns whether it changed the graph or its weights.</summary>
public interface IPass
{
    string Name { get; }
    bool Run(CompressionContext context);
}
