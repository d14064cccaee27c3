namespace Codesign.Backends.Fpga.Engine;

/// <summary>
/// Cycle timing of one chain (the performance model's lowest level): it takes a beat every cycle and a group's
/// sums leave <see cref="Latency"/> cycles after the beat that ends it (mux and multiply, adder tree, accumulator).
/// </summary>
public static class MpeChainTiming
{
    public const int Latency = 3;

    /// <summary>Cycles from the first beat entering to the last sums leaving.</summary>
    public static long Cycles(long beats) => beats == 0 ? 0 : beats + Latency - 1;
}
