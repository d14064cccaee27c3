namespace Codesign.Runtime.Tests;

internal static class LogitAssertions
{
    /// <summary>The largest logit difference, relative to the largest reference logit, stays under <paramref name="tolerance"/>.</summary>
    public static void AssertLogitsClose(float[] actual, float[] reference, double tolerance = 1e-4)
    {
        Assert.That(actual, Has.Length.EqualTo(reference.Length));
        double scale = reference.Max(v => Math.Abs(v));
        double worst = actual.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.That(worst, Is.LessThan(tolerance), "largest logit difference relative to the largest logit");
    }
}
