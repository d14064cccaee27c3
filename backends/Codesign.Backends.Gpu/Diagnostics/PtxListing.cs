using System.Reflection;
using Codesign.Backends.Gpu.Execution;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Codesign.Backends.Gpu.Diagnostics;

/// <summary>
/// Compiles the gpu kernels to PTX with ILGPU's own CUDA backend, on a machine without a GPU: what CUDA would be handed
/// at the first launch (same context settings as <see cref="GpuDevice"/>). CI checks through it that every kernel
/// compiles for CUDA and that the bandwidth-bound kernels keep the instructions they were written for; a developer reads
/// it to see what a kernel became.
/// </summary>
public sealed class PtxListing : IDisposable
{
    private readonly Context _context;
    private readonly PTXBackend _backend;

    /// <summary>Hopper (sm_90, the H100 and H200) unless told otherwise.</summary>
    public PtxListing(CudaArchitecture? architecture = null)
    {
        var arch = architecture ?? CudaArchitecture.SM_90;
        _context = Context.Create(b => GpuDevice.Configure(b));
        _backend = new PTXBackend(_context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_80, nvvmAPI: null);
    }

    /// <summary>Every kernel in <c>Kernels/</c> (the public static void methods of its static classes: a helper that
    /// returns nothing is internal there), each generic one once per
    /// struct type meeting its constraints (every weight format, every code width), named like <c>LinearKernels.Gemv&lt;QuantizedRows&gt;</c>.</summary>
    public static IReadOnlyList<(string Name, MethodInfo Method)> Kernels()
    {
        var assembly = typeof(PtxListing).Assembly;
        var structs = assembly.GetTypes().Where(t => t.IsValueType && !t.IsGenericTypeDefinition).ToArray();
        var kernels = new List<(string, MethodInfo)>();
        foreach (var type in assembly.GetTypes().Where(t => t.Namespace == "Codesign.Backends.Gpu.Kernels" && t.IsAbstract && t.IsSealed))
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(void)))
            {
                if (!method.IsGenericMethodDefinition)
                {
                    kernels.Add(($"{type.Name}.{method.Name}", method));
                    continue;
                }
                var parameter = method.GetGenericArguments().Single();
                var bounds = parameter.GetGenericParameterConstraints();
                foreach (var s in structs.Where(s => bounds.All(b => b.IsAssignableFrom(s))).OrderBy(s => s.Name, StringComparer.Ordinal))
                    kernels.Add(($"{type.Name}.{method.Name}<{s.Name}>", method.MakeGenericMethod(s)));
            }
        return kernels;
    }

    /// <summary>The PTX of one explicitly grouped kernel (as <c>LoadStreamKernel</c> launches them).</summary>
    public string Compile(MethodInfo kernel)
    {
        var compiled = (PTXCompiledKernel)_backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), new KernelSpecialization());
        return compiled.PTXAssembly;
    }

    public void Dispose()
    {
        _backend.Dispose();
        _context.Dispose();
    }
}
