using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Tests;

public class GenerationTimingsTests
{
    [Test]
    public void Percentiles_are_nearest_rank_and_throughput_counts_every_step()
    {
        var steps = Enumerable.Range(1, 100).Select(i => TimeSpan.FromMilliseconds(i)).Reverse().ToArray();
        var t = new GenerationTimings(20, TimeSpan.FromMilliseconds(40), steps);
        Assert.That(t.DecodeP50, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
        Assert.That(t.DecodeP99, Is.EqualTo(TimeSpan.FromMilliseconds(99)));
        Assert.That(t.Percentile(1.0), Is.EqualTo(TimeSpan.FromMilliseconds(100)));
        Assert.That(t.GeneratedTokens, Is.EqualTo(101));
        Assert.That(t.PrefillTokensPerSecond, Is.EqualTo(500).Within(1e-9));
        Assert.That(t.DecodeTokensPerSecond, Is.EqualTo(100 / 5.050).Within(1e-9));
        var single = new GenerationTimings(5, TimeSpan.FromMilliseconds(10), []);
        Assert.That((single.DecodeP99, double.IsNaN(single.DecodeTokensPerSecond)), Is.EqualTo((TimeSpan.Zero, true)));
    }
}
