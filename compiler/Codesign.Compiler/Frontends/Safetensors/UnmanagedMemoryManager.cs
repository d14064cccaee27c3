using System.Buffers;

namespace Codesign.Compiler.Frontends.Safetensors;

/// <summary>A <see cref="Memory{T}"/> over mapped bytes; the mapping's owner keeps them alive.</summary>
internal sealed unsafe class UnmanagedMemoryManager(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);
    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);
    public override void Unpin() { }
    protected override void Dispose(bool disposing) { }
}
