namespace Codesign.IR.Quantization;

/// <summary>A weight matrix [Rows, Cols] decoded from a packed format (quantized and/or sparse).</summary>
public interface IPackedMatrix
{
    int Rows { get; }
    int Cols { get; }

    /// <summary>The exact f32 value of every weight (pruned ones are 0), row-major.</summary>
    float[] ToDense();

    /// <summary>The packed bytes, exactly as docs/weight-formats.md lays them out.</summary>
    byte[] Pack();
}
