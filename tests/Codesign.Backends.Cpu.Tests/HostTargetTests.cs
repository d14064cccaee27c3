using System.Text;
using Codesign.Backends.Cpu.Codegen;
using Codesign.Backends.Cpu.Llvm;

namespace Codesign.Backends.Cpu.Tests;

public class HostTargetTests
{
    [Test]
    public void The_host_is_described_with_its_vector_features()
    {
        using var target = new HostTarget();
        Assert.That(target.Triple, Does.StartWith("x86_64"));
        Assert.That(target.CpuName, Is.Not.Empty);
        Assert.That(target.Features, Does.Contain("+sse2"));
        Assert.That(target.FloatLanes, Is.EqualTo(target.Has("avx512f") ? 16 : 8));
    }

    [Test]
    public void The_runtimes_feature_check_agrees_with_LLVMs_host_description()
    {
        using var target = new HostTarget();
        foreach (var feature in Execution.CpuFeatures.Checkable)
            Assert.That(Execution.CpuFeatures.Has(feature), Is.EqualTo(target.Has(feature)), feature);
        Assert.That(Execution.CpuFeatures.Missing(target.EnabledFeatures), Is.Empty);
        Assert.That(Execution.CpuFeatures.Has("no-such-feature"), Is.False);
    }

    [Test]
    public void A_kernel_module_is_written_as_an_ELF_object_defining_the_kernel()
    {
        using var target = new HostTarget();
        using var jit = new LlvmJit();
        using var module = jit.NewModule("aot");
        target.Prepare(module);
        var spec = new RmsNormSpec(96, 1e-5);
        spec.Emit(module, target.FloatLanes);
        module.Verify();
        target.Optimize(module);
        string path = Path.Combine(Codesign.Testing.TestPaths.NewScratchDirectory("obj"), "kernels.o");
        target.EmitObject(module, path);
        var bytes = File.ReadAllBytes(path);
        Assert.That(bytes.AsSpan(0, 4).ToArray(), Is.EqualTo(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }));
        Assert.That(BitConverter.ToUInt16(bytes, 16), Is.EqualTo(1), "ET_REL: a relocatable object");
        Assert.That(Encoding.ASCII.GetString(bytes), Does.Contain(spec.Name), "the kernel's symbol");
    }
}
