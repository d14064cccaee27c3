using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Semantics;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Interpreter;

/// <summary>A causal-LM session on the reference interpreter, for graphs with the importer's signature (tokens, positions → logits).</summary>
public sealed class InterpreterSession : ICausalLmSession
{
    private readonly ReferenceInterpreter _interpreter;
    private readonly KvCache _cache = new();

    public InterpreterSession(ReferenceInterpreter interpreter)
    {
        _interpreter = interpreter;
        var g = interpreter.Graph;
        if (g.FindValue(LlamaGraphBuilder.TokensInput) is null || g.FindValue(LlamaGraphBuilder.PositionsInput) is null
            || g.Outputs.Count != 1 || g.Outputs[0].Name != LlamaGraphBuilder.LogitsOutput)
            throw new CodesignException($"graph @{g.Name} is not a causal LM: expected inputs %tokens, %positions and output %logits");
        VocabSize = checked((int)g.Outputs[0].Type[-1].Size);
        MaxPositions = g.GetAttribute("max_position_embeddings") is long m ? checked((int)m) : int.MaxValue;
    }

    public int VocabSize { get; }
    public int Position { get; private set; }
    public int MaxPositions { get; }

    public float[] Forward(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (Position + tokens.Length > MaxPositions)
            throw new CodesignException($"sequence of {Position + tokens.Length} tokens exceeds the model's {MaxPositions} positions");
        var positions = new int[tokens.Length];
        for (int i = 0; i < positions.Length; i++) positions[i] = Position + i;
        var outputs = _interpreter.Run(new Dictionary<string, HostTensor>
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
