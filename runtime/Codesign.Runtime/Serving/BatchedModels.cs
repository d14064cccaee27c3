using Codesign.Backends.Cpu.Execution;
using Codesign.Backends.Cpu.Lowering;
using Codesign.Compiler.Frontends.HuggingFace;
using Codesign.IR.Diagnostics;
using Codesign.IR.Graphs;
using Codesign.IR.Ops;
using Codesign.IR.Semantics;
using Codesign.IR.Weights;
using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Serving;

/// <summary>
/// Batched forward calls on the devices whose attention takes a <see cref="KvBatch"/>: the reference interpreter and
/// the cpu backend. (The gpu keeps its cache on the device per session and serves one sequence at a time.)
/// </summary>
public static class BatchedModels
{
    public static readonly string[] Devices = ["interpreter", "cpu"];

    public static bool CanBatch(string device) => Devices.Contains(device);

    public static IBatchedModel Open(string device, Graph graph, IWeightStore weights, int threads = 0, LutChoice lut = LutChoice.Auto) => device switch
    {
        "interpreter" => Interpreter(new ReferenceInterpreter(graph, weights)),
        "cpu" => Cpu(CpuProgram.Compile(graph, weights, threads, lut: lut)),
        _ => throw new CodesignException($"device '{device}' cannot run batched sequences (the batching devices: {string.Join(", ", Devices)})"),
    };

    public static IBatchedModel Interpreter(ReferenceInterpreter interpreter) =>
        new GraphBatchedModel(interpreter.Graph, (inputs, batch) => interpreter.Run(inputs, batch), null);

    /// <summary>Takes ownership of <paramref name="program"/> (e.g. one loaded from an artifact).</summary>
    public static IBatchedModel Cpu(CpuProgram program) => new GraphBatchedModel(program.Graph, program.RunHost, program);

    private sealed class GraphBatchedModel(Graph graph, Func<IReadOnlyDictionary<string, HostTensor>, KvBatch, IReadOnlyDictionary<string, HostTensor>> run, IDisposable? owned)
        : IBatchedModel
    {
        private readonly AttentionOp[] _attention = graph.Nodes.Select(n => n.Op).OfType<AttentionOp>().ToArray();
        private readonly (int VocabSize, int MaxPositions) _signature = CausalLmGraph.Check(graph);

        public int VocabSize => _signature.VocabSize;
        public int MaxPositions => _signature.MaxPositions;
        public int AttentionLayers => _attention.Length;
        public int KvBits => _attention.Select(a => (int)a.KvBits).Distinct().Count() == 1 ? (int)_attention[0].KvBits : 0;

        public float[] Forward(IReadOnlyList<BatchSlice> slices)
        {
            var tokens = slices.SelectMany(s => s.Tokens).ToArray();
            var positions = slices.SelectMany(s => Enumerable.Range(s.Position, s.Tokens.Length)).ToArray();
            var outputs = run(CausalLmGraph.Inputs(tokens, positions), new KvBatch(slices.Select(s => (s.Cache, s.Tokens.Length)).ToArray()));
            return outputs[LlamaGraphBuilder.LogitsOutput].Floats.ToArray();
        }

        public void Dispose() => owned?.Dispose();
    }
}
