using System.Diagnostics;

/// <summary>Median wall time of repeated runs, after one warm-up run: the machines are shared and noisy.</summary>
internal static class Timing
{
    public static double MedianMs(int runs, Action action)
    {
        action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
