namespace Codesign.Backends.Fpga.Engine;

/// <summary>
/// One beat into a matrix-engine chain (<c>hdl-templates/mpe_chain.sv.sbn</c>): a window of int8 activations, and per
/// lane a signed weight (code − zero) with the window position of the activation it multiplies.
/// </summary>
public sealed record MpeBeat(bool First, bool Last, int SegLog2, int[] Activations, int[] Weights, int[] Selects);

/// <summary>Whose group sum segment j of a beat's output is: a token row, an output column (−1: padding) and a quantization group.</summary>
public readonly record struct MpeOutputSlot(int TokenRow, int Column, int Group);

/// <summary>
/// A quantized matrix product mapped onto a chain: the beats in order, and for each beat that ends a group (in
/// order, one output each) the slots its segments fill. <see cref="RowsPerBeat"/> output columns share every beat.
/// </summary>
public sealed record MpeStream(IReadOnlyList<MpeBeat> Beats, IReadOnlyList<MpeOutputSlot[]> Outputs, int RowsPerBeat, int LanesPerRow);
