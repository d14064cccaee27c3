using Codesign.IR.Semantics;
using Codesign.Runtime.Evaluation;
using Codesign.Runtime.Generation;
using Codesign.Runtime.Interpreter;

namespace Codesign.Runtime.Tests;

/// <summary>The interpreter against the transformers outputs stored with tiny-llama-a.</summary>
public class ReferenceInterpreterFixtureTests
{
    [TestCase(0), TestCase(1), TestCase(2), TestCase(3)]
    public void Prefill_logits_match_transformers_within_1e3_with_identical_argmax(int prompt)
    {
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.ids");
        var expected = TinyLlamaFixture.Reference.ReadFloat32($"prompt{prompt}.logits");
        var session = new InterpreterSession(TinyLlamaFixture.Interpreter);
        var logits = session.Forward(ids);

        Assert.That(logits, Has.Length.EqualTo(expected.Length));
        int vocab = session.VocabSize;
        double maxDiff = 0;
        for (int i = 0; i < logits.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - expected[i]));
        Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-3), "max |logit difference|");
        for (int t = 0; t < ids.Length; t++)
        {
            Assert.That(Sampler.ArgMax(logits.AsSpan(t * vocab, vocab)), Is.EqualTo(Sampler.ArgMax(expected.AsSpan(t * vocab, vocab))),
                $"argmax at position {t}");
        }
    }

    [TestCase(0), TestCase(1), TestCase(2), TestCase(3)]
    public void Greedy_generation_reproduces_the_reference_continuation(int prompt)
    {
        var ids = TinyLlamaFixture.Ids($"prompt{prompt}.ids");
        var expected = TinyLlamaFixture.Ids($"prompt{prompt}.greedy");
        var session = new InterpreterSession(TinyLlamaFixture.Interpreter);
        var generated = TextGenerator.Generate(session, ids, expected.Length, SamplingOptions.GreedyDecoding);
        Assert.That(generated, Is.EqualTo(expected));
    }

    [Test]
    public void Decoding_token_by_token_gives_the_prefill_logits()
    {
        var ids = TinyLlamaFixture.Ids("prompt2.ids");
        var prefill = new InterpreterSession(TinyLlamaFixture.Interpreter).Forward(ids);
        var stepwise = new InterpreterSession(TinyLlamaFixture.Interpreter);
        var steps = ids.SelectMany(id => stepwise.Forward([id])).ToArray();
        Assert.That(steps, Is.EqualTo(prefill).Within(1e-4));
    }

    [Test]
    public void Perplexity_over_eval_ids_is_within_0_1_percent_of_transformers()
    {
        const double reference = 38.63226004919436;
        var ids = TinyLlamaFixture.Ids("eval.ids");
        var result = PerplexityEvaluator.Evaluate(new InterpreterSession(TinyLlamaFixture.Interpreter), ids, 256);
        Assert.That(result.Windows, Is.EqualTo(64));
        Assert.That(result.ScoredTokens, Is.EqualTo(64 * 255));
        Assert.That(Math.Abs(result.Perplexity / reference - 1), Is.LessThan(1e-3), $"perplexity {result.Perplexity}");
    }
}
