using Codesign.Runtime.Generation;

namespace Codesign.Runtime.Tests;

public class SamplerTests
{
    private static readonly float[] Logits = [0.5f, 3f, -1f, 2.9f, 0f, 1f];

    [Test]
    public void Greedy_takes_the_argmax_first_on_ties()
    {
        Assert.That(new Sampler(SamplingOptions.GreedyDecoding).Next(Logits), Is.EqualTo(1));
        Assert.That(Sampler.ArgMax([1f, 4f, 4f]), Is.EqualTo(1));
    }

    [Test]
    public void Top_k_of_one_is_greedy_whatever_the_seed()
    {
        for (int seed = 0; seed < 20; seed++)
            Assert.That(new Sampler(new SamplingOptions { Greedy = false, TopK = 1, Seed = seed }).Next(Logits), Is.EqualTo(1));
    }

    [Test]
    public void Top_k_and_top_p_restrict_the_candidates()
    {
        var topK = new Sampler(new SamplingOptions { Greedy = false, TopK = 2, Temperature = 5, Seed = 3 });
        var seen = Enumerable.Range(0, 400).Select(_ => topK.Next(Logits)).ToHashSet();
        Assert.That(seen, Is.EquivalentTo(new[] { 1, 3 }));
        var topP = new Sampler(new SamplingOptions { Greedy = false, TopP = 0.3, Seed = 3 });
        Assert.That(Enumerable.Range(0, 100).Select(_ => topP.Next(Logits)).Distinct(), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void The_same_seed_gives_the_same_tokens_and_frequencies_follow_the_distribution()
    {
        var a = new Sampler(new SamplingOptions { Greedy = false, Seed = 42 });
        var b = new Sampler(new SamplingOptions { Greedy = false, Seed = 42 });
        var draws = Enumerable.Range(0, 4000).Select(_ => a.Next(Logits)).ToArray();
        Assert.That(Enumerable.Range(0, 4000).Select(_ => b.Next(Logits)), Is.EqualTo(draws));
        double z = Logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < Logits.Length; i++)
            Assert.That(draws.Count(d => d == i) / 4000.0, Is.EqualTo(Math.Exp(Logits[i]) / z).Within(0.03), $"token {i}");
    }

    [TestCase(0.0, 0, 1.0)]
    [TestCase(1.0, -1, 1.0)]
    [TestCase(1.0, 0, 1.5)]
    public void Invalid_options_are_refused(double temperature, int topK, double topP) =>
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Greedy = false, Temperature = temperature, TopK = topK, TopP = topP }));
}
