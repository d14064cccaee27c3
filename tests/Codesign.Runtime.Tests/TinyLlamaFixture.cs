using Codesign.IR.Semantics;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.Runtime.Interpreter;
using Codesign.Testing;

namespace Codesign.Runtime.Tests;

/// <summary>The fixture model imported once and its reference outputs, shared by the tests of this assembly.</summary>
internal static class TinyLlamaFixture
{
    private static readonly Lazy<ImportedModel> LazyModel = new(() => ModelLoader.Load(TestPaths.TinyLlama));
    private static readonly Lazy<ReferenceInterpreter> LazyInterpreter = new(() => new ReferenceInterpreter(Model.Graph, Model.Weights));
    private static readonly Lazy<SafetensorsFile> LazyReference = new(() => SafetensorsFile.Open(TestPaths.TinyLlamaReference));

    public static ImportedModel Model => LazyModel.Value;
    public static ReferenceInterpreter Interpreter => LazyInterpreter.Value;
    public static SafetensorsFile Reference => LazyReference.Value;

    public static int[] Ids(string name) => Reference.ReadInt64(name).Select(v => checked((int)v)).ToArray();
}
