using ILGPU;
using ILGPU.Algorithms;

namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// The interpreter's rotate-half rope (<c>RopeKernel</c>) on the device: element c of a head row pairs with c ± d/2 and
/// turns by positions[token] · invFreq[c mod d/2]. The rope kernel applies it to a tensor; attention applies it to q
/// as it reads it and to the keys it appends, where the fusion plan folds the q and k ropes into it. Empty
/// <see cref="InverseFrequencies"/>: no rope.
/// </summary>
internal struct RotaryEmbedding
{
    /// <summary>Each token's position (i32 [tokens]).</summary>
    public ArrayView<int> Positions;
    /// <summary>θ^(−2i/d), one per pair, as <c>RopeKernel.InverseFrequencies</c> rounds it.</summary>
    public ArrayView<float> InverseFrequencies;

    public readonly bool Applies => InverseFrequencies.Length > 0;

    /// <summary>Element <paramref name="c"/> of the head row at <paramref name="row"/>[<paramref name="start"/>…], rotated for <paramref name="token"/>.</summary>
    public readonly float At(ArrayView<float> row, long start, int c, int headDim, long token)
    {
        int half = headDim / 2;
        bool first = c < half;
        int i = first ? c : c - half;
        float angle = Positions[token] * InverseFrequencies[i];
        float cos = XMath.Cos(angle), sin = XMath.Sin(angle);
        float a = row[start + i], b = row[start + half + i];
        return first ? a * cos - b * sin : b * cos + a * sin;
    }
}
