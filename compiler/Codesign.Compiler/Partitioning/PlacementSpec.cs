using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;

namespace Codesign.Compiler.Partitioning;

/// <summary>
/// A placement a user forces: <c>matmul=gpu,attention=cpu,*=interpreter</c>. Each rule names an op class
/// (<see cref="OpClasses"/>), an op mnemonic (<c>nn.rms_norm</c>) or <c>*</c> (every op no other rule names), and a
/// device. A mnemonic rule wins over a class rule, which wins over <c>*</c>; every op must end up somewhere.
/// </summary>
public sealed class PlacementSpec
{
    private readonly Dictionary<string, string> _rules;

    private PlacementSpec(Dictionary<string, string> rules, string text)
    {
        _rules = rules;
        Text = text;
    }

    public string Text { get; }
    public IReadOnlyDictionary<string, string> Rules => _rules;

    /// <param name="devices">The device names a rule may give.</param>
    public static PlacementSpec Parse(string text, IReadOnlyCollection<string> devices)
    {
        var rules = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var sides = part.Split('=', StringSplitOptions.TrimEntries);
            if (sides.Length != 2 || sides[0].Length == 0 || sides[1].Length == 0)
                throw new CodesignException($"--placement '{text}': '{part}' is not SELECTOR=DEVICE (e.g. matmul=gpu,*=cpu)");
            var (selector, device) = (sides[0], sides[1]);
            if (selector != "*" && !OpClasses.Members.ContainsKey(selector) && !OpClasses.IsMnemonic(selector))
                throw new CodesignException($"--placement '{text}': '{selector}' is neither '*', an op class ({string.Join(", ", OpClasses.Members.Keys)}) nor an op mnemonic");
            if (!devices.Contains(device))
                throw new CodesignException($"--placement '{text}': unknown device '{device}' (one of {string.Join(", ", devices)})");
            if (!rules.TryAdd(selector, device))
                throw new CodesignException($"--placement '{text}': '{selector}' is placed twice");
        }
        return new PlacementSpec(rules, text);
    }

    /// <summary>The device of every node of <paramref name="graph"/>, in node order.</summary>
    public DevicePlacement Place(Graph graph)
    {
        var devices = new string[graph.Nodes.Count];
        for (int i = 0; i < devices.Length; i++)
        {
            var op = graph.Nodes[i].Op;
            devices[i] = _rules.GetValueOrDefault(op.Mnemonic) ?? _rules.GetValueOrDefault(OpClasses.Of(op)) ?? _rules.GetValueOrDefault("*")
                ?? throw new CodesignException($"--placement '{Text}' places no rule on {op.Mnemonic} (class {OpClasses.Of(op)}): add *=DEVICE for the ops no rule names");
        }
        return new DevicePlacement(graph, devices);
    }
}
