using System.Diagnostics;
using Codesign.IR.Analysis;
using Codesign.IR.Diagnostics;

namespace Codesign.Compiler.Passes;

/// <summary>Runs passes in order and verifies the graph after each one, so a broken rewrite is caught at the pass that made it.</summary>
public sealed class PassManager
{
    private readonly List<IPass> _passes = [];

    public IReadOnlyList<IPass> Passes => _passes;

    public PassManager Add(IPass pass)
    {
        _passes.Add(pass);
        return this;
    }

    public IReadOnlyList<(string Pass, bool Changed, TimeSpan Time)> Run(CompressionContext context)
    {
        var results = new List<(string, bool, TimeSpan)>();
        foreach (var pass in _passes)
        {
            var clock = Stopwatch.StartNew();
            bool changed = pass.Run(context);
            try
            {
                Verifier.Verify(context.Graph);
            }
            catch (VerificationException e)
            {
                throw new CodesignException($"pass {pass.Name} left an invalid graph: {e.Message}");
            }
            results.Add((pass.Name, changed, clock.Elapsed));
            context.Log?.Invoke($"pass {pass.Name}: {(changed ? "changed" : "no change")} ({clock.Elapsed.TotalSeconds:F2} s)");
        }
        return results;
    }
}
