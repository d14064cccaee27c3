using System.CommandLine;
using Codesign.Backends.Cpu.Execution;
using Codesign.Runtime.Artifacts;
using Spectre.Console;

namespace Codesign.Cli.Commands;

/// <summary><c>codesign inspect MODEL|ARTIFACT</c>: architecture, parameter count, dtypes, op counts; for an artifact also what it was compiled from and for, its kernels and weight forms.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output)
    {
        var model = ModelArguments.Model();
        var command = new Command("inspect", "Print what a model or artifact is: architecture, parameters, dtypes, op counts; kernels and weight forms of an artifact.") { model };
        command.SetAction(parse =>
        {
            using var source = ModelSource.Open(parse.GetValue(model)!, parse.InvocationConfiguration.Error);
            var console = PlainConsole.Create(output);
            // Packed dtypes have no per-element size: a model's store knows each tensor's bytes; an artifact's graph does not.
            Func<IR.Values.Value, long?> bytes = source.Model is { } m
                ? w => m.Weights.Get(w.WeightKey!).Data.Length
                : w => w.Type.DType.Kind is IR.Types.DTypeKind.Quantized or IR.Types.DTypeKind.Sparse ? null : w.Type.ElementCount().Known * w.Type.DType.ByteSize;
            Render(source.Model?.Graph ?? source.Artifact!.Graph, source.Path, bytes, console);
            if (source.Artifact is { } artifact) RenderArtifact(artifact, console);
            return 0;
        });
        return command;
    }

    private static void RenderArtifact(CompiledArtifact artifact, IAnsiConsole console)
    {
        var m = artifact.Manifest;
        var about = new Table().Title("artifact (every file's SHA-256 checked)").AddColumn("property").AddColumn("value");
        about.AddRow("format", $"{m.Format} v{m.Version}, written by codesign {Markup.Escape(m.CodesignVersion)}");
        about.AddRow("compiled from", Markup.Escape(m.Model + (m.Recipe is { } r ? $" with {r}" : "")));
        about.AddRow("content hash", m.ContentHash);
        about.AddRow("tokenizer", Markup.Escape(m.Tokenizer is { } t ? $"{t.File} ({t.Kind})" : "none"));
        console.Write(about);
        if (m.Devices.Cpu is not { } cpu) return;
        var target = new Table().Title("cpu").AddColumn("property").AddColumn("value");
        target.AddRow("target", Markup.Escape($"{cpu.Target.Cpu} ({cpu.Target.Triple})"));
        target.AddRow("features used", Markup.Escape(string.Join(" ", cpu.Target.Features.Where(f => CpuFeatures.Checkable.Contains(f)).Order(StringComparer.Ordinal))));
        target.AddRow("kernels", $"{cpu.Target.Kernels.Count} in {cpu.KernelsFile}");
        target.AddRow("LUT-mpGEMM layers", $"{cpu.LutDecisions.Count(d => d.Lut)} of {cpu.LutDecisions.Count} quantized");
        console.Write(target);
        var forms = new Table().Title($"weights in {Markup.Escape(cpu.WeightsFile)}, by the form the kernels read").AddColumn("form").AddColumn("tensors").AddColumn("bytes");
        foreach (var group in cpu.Weights.GroupBy(w => w.Form).OrderBy(g => g.Key))
            forms.AddRow(group.Key.ToString(), group.Count().ToString(), $"{group.Sum(w => w.Buffers.Sum(b => b.Bytes)):N0}");
        console.Write(forms);
    }

    private static void Render(IR.Graphs.Graph g, string source, Func<IR.Values.Value, long?> bytes, IAnsiConsole console)
    {
        var arch = new Table().Title($"model @{g.Name}").AddColumn("property").AddColumn("value");
        foreach (var (key, value) in g.Attributes)
            arch.AddRow(key, Markup.Escape(IR.Ops.AttributeValues.Format(value)));
        long parameters = g.Weights.Sum(w => w.Type.ElementCount().Known);
        arch.AddRow("parameters", $"{parameters:N0}");
        arch.AddRow("source", Markup.Escape(source));
        console.Write(arch);

        var dtypes = new Table().Title("weights by dtype").AddColumn("dtype").AddColumn("tensors").AddColumn("parameters").AddColumn("bytes");
        foreach (var group in g.Weights.GroupBy(w => w.Type.DType).OrderBy(x => x.Key.Name, StringComparer.Ordinal))
        {
            long count = group.Sum(w => w.Type.ElementCount().Known);
            var sizes = group.Select(bytes).ToArray();
            string total = sizes.All(b => b is not null) ? $"{sizes.Sum(b => b!.Value):N0}" : "see the weight forms below";
            dtypes.AddRow(Markup.Escape(group.Key.Name), group.Count().ToString(), $"{count:N0}", total);
        }
        console.Write(dtypes);

        var ops = new Table().Title("ops").AddColumn("op").AddColumn("count");
        foreach (var group in g.Nodes.GroupBy(n => n.Op.Mnemonic).OrderBy(x => x.Key, StringComparer.Ordinal))
            ops.AddRow(group.Key, group.Count().ToString());
        ops.AddRow("inputs", Markup.Escape(string.Join(", ", g.Inputs.Select(v => $"%{v.Name}: {v.Type}"))));
        ops.AddRow("outputs", Markup.Escape(string.Join(", ", g.Outputs.Select(v => $"%{v.Name}: {v.Type}"))));
        console.Write(ops);
    }
}
