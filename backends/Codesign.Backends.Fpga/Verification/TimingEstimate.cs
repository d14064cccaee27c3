namespace Codesign.Backends.Fpga.Verification;

/// <summary>
/// An estimate, not a timing analysis: the clock a design's deepest path in LUT levels (<see cref="LogicDepth"/>) allows
/// on an UltraScale+ part at speed grade -2, taking a level (a LUT and the net into it) as <see cref="LevelNs"/> and a
/// register-to-register path's fixed part (clock to out, set-up, clock uncertainty) as <see cref="OverheadNs"/>. The
/// level's figure is the usual UltraScale+ split of about 0.1 ns in the LUT and 0.3–0.5 ns in routing (UG949: more
/// than half of an UltraScale path's delay in routing is the case to look into); Vivado after placement and routing is
/// the only real answer, and this estimate is there to show which units a clock cannot reach.
/// </summary>
public static class TimingEstimate
{
    public const double LevelNs = 0.5;
    public const double OverheadNs = 0.6;

    /// <summary>The estimated clock a path of <paramref name="levels"/> LUT levels allows, in MHz.</summary>
    public static double FmaxMhz(double levels) => 1000.0 / (OverheadNs + Math.Max(levels, 0) * LevelNs);

    /// <summary>The deepest path, in LUT levels, a clock of <paramref name="clockMhz"/> allows by the estimate.</summary>
    public static double LevelBudget(double clockMhz) => Math.Floor((1000.0 / clockMhz - OverheadNs) / LevelNs);
}
