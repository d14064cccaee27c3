using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Interpreter;

/// <summary>A causal-LM session on the reference interpreter.</summary>
public sealed class InterpreterSession(ReferenceInterpreter interpreter) : GraphSession(interpreter.Graph)
{
    protected override float[] Run(int[] tokens, int[] positions)
    {
        var outputs = interpreter.Run(CausalLmGraph.Inputs(tokens, positions), Cache);
        return AsArray(outputs[LlamaGraphBuilder.LogitsOutput].Floats);
    }
}
