using Codesign.Backends.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Codesign.Backends.Gpu.Execution;

/// <summary>The kernels of <c>Kernels/</c> loaded on one accelerator, each compiled on first use and then reused.</summary>
internal sealed class GpuKernels(Accelerator accelerator)
{
    private readonly Dictionary<string, Delegate> _loaded = [];

    private T Load<T>(string name, Func<T> load) where T : Delegate
    {
        lock (_loaded)
        {
            if (_loaded.TryGetValue(name, out var known)) return (T)known;
            var kernel = load();
            _loaded[name] = kernel;
            return kernel;
        }
    }

    /// <summary>Kernels compiled so far (for reports: ILGPU compiles at first launch).</summary>
    public IReadOnlyCollection<string> Loaded
    {
        get { lock (_loaded) return [.. _loaded.Keys]; }
    }

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> Add =>
        Load(nameof(Add), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Add));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> Mul =>
        Load(nameof(Mul), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Mul));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>> Silu =>
        Load(nameof(Silu), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(ElementwiseKernels.Silu));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> SiluMul =>
        Load(nameof(SiluMul), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.SiluMul));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double> RmsNorm =>
        Load(nameof(RmsNorm), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double>(RowKernels.RmsNorm));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> Softmax =>
        Load(nameof(Softmax), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(RowKernels.Softmax));

    public Action<KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> Embedding =>
        Load(nameof(Embedding), () => accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ShapeKernels.Embedding));

    public Action<KernelConfig, ArrayView<float>, RotaryEmbedding, ArrayView<float>, int, int> Rope =>
        Load(nameof(Rope), () => accelerator.LoadStreamKernel<ArrayView<float>, RotaryEmbedding, ArrayView<float>, int, int>(ShapeKernels.Rope));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, TransposeShape> Transpose =>
        Load(nameof(Transpose), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, TransposeShape>(ShapeKernels.Transpose));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, TW, int, int, int> Gemv<TW>() where TW : struct, IWeightRows =>
        Load($"Gemv<{typeof(TW).Name}>", () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, TW, int, int, int>(LinearKernels.Gemv));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, TW, int, int, int> Gemm<TW>() where TW : struct, IWeightRows =>
        Load($"Gemm<{typeof(TW).Name}>", () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, TW, int, int, int>(LinearKernels.Gemm));

    public Action<KernelConfig, ArrayView<float>, WordGemvMatrices, int, int, WordGemvFusion> WordGemv<TWidth>() where TWidth : struct, ICodeWidth =>
        Load($"WordGemv<{typeof(TWidth).Name}>", () => accelerator.LoadStreamKernel<ArrayView<float>, WordGemvMatrices, int, int, WordGemvFusion>(WordCodeGemv.Gemv<TWidth>));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, DenseF16Rows, int> DenseF16Gemv =>
        Load(nameof(DenseF16Gemv), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, DenseF16Rows, int>(Kernels.DenseF16Gemv.Gemv));

    public Action<KernelConfig, ArrayView<float>, ArrayView<sbyte>, ArrayView<float>, int, int> QuantizeActivations =>
        Load(nameof(QuantizeActivations), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<sbyte>, ArrayView<float>, int, int>(IntegerLinearKernels.QuantizeActivations));

    public Action<KernelConfig, ArrayView<sbyte>, ArrayView<float>, ArrayView<float>, QuantizedRows, int> IntegerGemv =>
        Load(nameof(IntegerGemv), () => accelerator.LoadStreamKernel<ArrayView<sbyte>, ArrayView<float>, ArrayView<float>, QuantizedRows, int>(IntegerLinearKernels.Gemv));

    public Action<KernelConfig, ArrayView<float>, LutTables, int, int, int> LutTables =>
        Load(nameof(LutTables), () => accelerator.LoadStreamKernel<ArrayView<float>, LutTables, int, int, int>(LutKernels.BuildTables));

    public Action<KernelConfig, LutTables, ArrayView<float>, QuantizedRows, int, int> LutGemv =>
        Load(nameof(LutGemv), () => accelerator.LoadStreamKernel<LutTables, ArrayView<float>, QuantizedRows, int, int>(LutKernels.Gemv));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, RotaryEmbedding, int> AppendKv =>
        Load(nameof(AppendKv), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, RotaryEmbedding, int>(AttentionKernels.AppendRows));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape, RotaryEmbedding, int> DecodeSlices =>
        Load(nameof(DecodeSlices), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape, RotaryEmbedding, int>(AttentionKernels.DecodeSlices));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, AttentionShape> MergeSlices =>
        Load(nameof(MergeSlices), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, AttentionShape>(AttentionKernels.MergeSlices));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape, PrefillTiling, RotaryEmbedding> Prefill =>
        Load(nameof(Prefill), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape, PrefillTiling, RotaryEmbedding>(AttentionKernels.Prefill));

    /// <summary>Device-to-device copy as a kernel: the baseline a bandwidth-bound kernel is measured against.</summary>
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>> Copy =>
        Load(nameof(Copy), () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(CopyKernel.Copy));
}
