using Codesign.IR.Diagnostics;
using Scriban;
using Scriban.Runtime;

namespace Codesign.Backends.Fpga.Rtl;

/// <summary>
/// Renders the RTL templates (<c>hdl-templates/*.sv.sbn</c>, embedded in this assembly) with Scriban. Variables are
/// strict: a template naming a parameter it was not given is an error, never an empty string in the Verilog.
/// </summary>
public static class RtlTemplates
{
    /// <summary>The names of the templates, without <c>.sv.sbn</c>.</summary>
    public static IReadOnlyList<string> Names =>
        [.. typeof(RtlTemplates).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("hdl-templates/", StringComparison.Ordinal))
            .Select(n => n["hdl-templates/".Length..^".sv.sbn".Length]).Order(StringComparer.Ordinal)];

    public static string Render(string name, IReadOnlyDictionary<string, object> parameters)
    {
        string source = $"hdl-templates/{name}.sv.sbn";
        using var stream = typeof(RtlTemplates).Assembly.GetManifestResourceStream(source)
            ?? throw new CodesignException($"{source}: no such RTL template (there are: {string.Join(", ", Names)})");
        using var reader = new StreamReader(stream);
        var template = Template.Parse(reader.ReadToEnd(), source);
        if (template.HasErrors) throw new CodesignException($"{source}: {string.Join("; ", template.Messages)}");
        var globals = new ScriptObject();
        foreach (var (key, value) in parameters) globals.Add(key, value);
        var context = new TemplateContext { StrictVariables = true, LoopLimit = 1 << 20, MemberRenamer = member => member.Name };
        context.PushGlobal(globals);
        try
        {
            return template.Render(context);
        }
        catch (Scriban.Syntax.ScriptRuntimeException e)
        {
            throw new CodesignException($"{source}: {e.Message}");
        }
    }
}
