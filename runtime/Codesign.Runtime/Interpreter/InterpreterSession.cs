using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Interpreter;

/// <summary>A causal-LM session on the reference interpreter, for graphs with the importer's signature (tokens, positions → logits).</summary>
public sealed class InterpreterSession(ReferenceInterpreter interpreter) : ICausalLmSession
{
    private readonly CausalLmGraph _signature = CausalLmGraph.Of(interpreter.Graph);
    private readonly KvCache _cache = new();

    public int VocabSize => _signature.VocabSize;
    public int Position { get; private set; }
    public int MaxPositions => _signature.MaxPositions;

    public float[] Forward(ReadOnlySpan<int> tokens)
    {
        var positions = _signature.Positions(Position, tokens.Length);
        var outputs = interpreter.Run(new Dictionary<string, HostTensor>
        {
            [LlamaGraphBuilder.TokensInput] = HostTensor.I32([tokens.Length], tokens.ToArray()),
            [LlamaGraphBuilder.PositionsInput] = HostTensor.I32([tokens.Length], positions),
        }, _cache);
        Position += tokens.Length;
        var logits = outputs[LlamaGraphBuilder.LogitsOutput].Floats;
        return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(logits, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length
            ? seg.Array
            : logits.ToArray();
    }

    public void Reset()
    {
        _cache.Clear();
        Position = 0;
    }
}
