using Codesign.Backends.Cpu.Execution;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Devices;

/// <summary>A causal-LM session on the cpu backend's compiled kernels; the KV cache lives in pinned host arrays.</summary>
public sealed class CpuSession(CpuProgram program, bool ownsProgram = false) : ICausalLmSession, IDisposable
{
    private readonly CausalLmGraph _signature = CausalLmGraph.Of(program.Graph);
    private readonly CpuKvCache _cache = new();

    public int VocabSize => _signature.VocabSize;
    public int Position { get; private set; }
    public int MaxPositions => _signature.MaxPositions;

    public float[] Forward(ReadOnlySpan<int> tokens)
    {
        var positions = _signature.Positions(Position, tokens.Length);
        var outputs = program.Run(new Dictionary<string, CpuTensor>
        {
            [LlamaGraphBuilder.TokensInput] = CpuTensor.I32([tokens.Length], tokens),
            [LlamaGraphBuilder.PositionsInput] = CpuTensor.I32([tokens.Length], positions),
        }, _cache);
        Position += tokens.Length;
        return outputs[LlamaGraphBuilder.LogitsOutput].Floats!;
    }

    public void Dispose()
    {
        if (ownsProgram) program.Dispose();
    }

    public void Reset()
    {
        _cache.Clear();
        Position = 0;
    }
}
