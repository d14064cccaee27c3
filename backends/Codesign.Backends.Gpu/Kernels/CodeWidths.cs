namespace Codesign.Backends.Gpu.Kernels;

/// <summary>
/// A code width as a type, so a kernel generic over it is compiled once per width with the width a constant: shifts
/// and masks fold, and the loop over a word's codes has a fixed trip count.
/// </summary>
internal interface ICodeWidth
{
    int Bits { get; }
}

internal readonly struct OneBitCodes : ICodeWidth
{
    public int Bits => 1;
}

internal readonly struct TwoBitCodes : ICodeWidth
{
    public int Bits => 2;
}

internal readonly struct FourBitCodes : ICodeWidth
{
    public int Bits => 4;
}

internal readonly struct EightBitCodes : ICodeWidth
{
    public int Bits => 8;
}

/// <summary>Four f32 values loaded as one 16-byte access (the PTX backend emits <c>ld.global.v4.f32</c> for it).</summary>
internal struct FloatQuad
{
    public float X, Y, Z, W;
}
