using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>CoreTiming's cluster: the quantizer's rows, the cores stepped together, the writeback and the done.</summary>
public static partial class CoreTiming
{
    /// <summary>
    /// The cluster: the quantizer's rows (for a matrix, each once every core has read the last, into every core; for
    /// attention, each core's own in turn, once that core has read its last), the cores, the writeback and the done.
    /// </summary>
    private sealed class Cluster(Core[] cores, int setup, int m, int lines, bool perCore, int active = 0)
    {
        /// <summary>The one row is already quantized (<see cref="CoreMatrixOperands.ReuseCodes"/>): the cores see it from their start.</summary>
        public bool Reused { get; init; }

        public long Run()
        {
            // cycle 0 is the controller's issue, where the cluster takes the start; the cores see theirs at `setup`
            long t = setup;
            foreach (var core in cores) core.Start();
            // the quantizer waits from the cycle after; a row: absmax (lines + 2 cycles), scale (1) and codes (lines + 2),
            // and its count is seen the cycle after
            var seen = new int[cores.Length];
            int rowsSeen = Reused ? 1 : 0, ar = 0, ag = 0, pending = -1;
            long waitFrom = t + 1, seenAt = -1;
            int rr = 0;
            long doneCycle = -1;
            for (; ; t++)
            {
                if (seenAt == t)
                {
                    if (perCore) seen[pending]++;
                    else rowsSeen++;
                    waitFrom = t;
                    seenAt = -1;
                }
                bool waiting = seenAt < 0 && t >= waitFrom;
                long rowTime = t + 1 + (lines + 2) + 1 + (lines + 2);
                if (!perCore && waiting && rowsSeen < m && cores.All(c => c.ReadRows >= rowsSeen)) seenAt = rowTime;
                if (perCore && waiting && ar < m && cores[ag].ReadRows == ar)
                {
                    seenAt = rowTime;
                    pending = ag;
                    if (++ag == active) { ag = 0; ar++; }
                }
                // the cluster's done: every row quantized, once every core has pulsed done
                if (doneCycle < 0 && waiting && (perCore ? ar : rowsSeen) == m && cores.All(c => c.Finished(t))) doneCycle = t + 1;
                // writeback: a line a cycle, round-robin from rr
                int grant = -1;
                for (int i = 0; i < cores.Length && grant < 0; i++)
                    if (cores[(rr + i) % cores.Length].OutputCount > 0) grant = (rr + i) % cores.Length;
                if (grant >= 0) rr = (grant + 1) % cores.Length;
                for (int c = 0; c < cores.Length; c++) cores[c].Step(t, perCore ? seen[c] : rowsSeen, c == grant);
                // the controller sees done in doneCycle and fetches the next instruction the cycle after
                if (doneCycle >= 0 && t + 1 >= doneCycle) return doneCycle - 1;
            }
        }
    }
}
