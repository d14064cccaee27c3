using System.Buffers;
using System.Runtime.InteropServices;

namespace Codesign.IR.Weights;

/// <summary>Presents bytes (e.g. a memory-mapped tensor) as a <see cref="Memory{T}"/> of T without copying.</summary>
internal sealed class ByteReinterpretingMemoryManager<T>(ReadOnlyMemory<byte> bytes) : MemoryManager<T> where T : unmanaged
{
    public override Span<T> GetSpan() =>
        MemoryMarshal.Cast<byte, T>(MemoryMarshal.AsMemory(bytes).Span);

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        var handle = bytes.Pin();
        return new MemoryHandle((byte*)handle.Pointer + elementIndex * sizeof(T), handle: default, pinnable: new Releaser(handle));
    }

    // Each handle from Pin carries its own releaser, so there is nothing to undo here.
    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }

    private sealed class Releaser(MemoryHandle handle) : IPinnable
    {
        private MemoryHandle _handle = handle;
        public MemoryHandle Pin(int elementIndex) => default;
        public void Unpin() => _handle.Dispose();
    }
}
