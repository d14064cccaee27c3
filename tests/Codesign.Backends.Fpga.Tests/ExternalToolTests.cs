using System.Diagnostics;
using Codesign.Backends.Fpga.Verification;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The external tools' runner: a missing tool, a time limit and a cancellation (what stops a background synthesis).</summary>
public class ExternalToolTests
{
    [Test]
    public void A_cancelled_run_kills_the_tool_and_says_so()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        Assert.That(() => ExternalTool.Run("sleep", "coreutils", ["30"], TimeSpan.FromMinutes(1), cancel: cancel.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the tool was killed, not waited for");
    }

    [Test]
    public void A_run_past_its_limit_is_killed_naming_the_tool_and_the_setting()
    {
        Assert.That(() => ExternalTool.Run("sleep", "coreutils", ["30"], TimeSpan.FromMilliseconds(300), limitSetting: "SOME_SETTING"),
            Throws.TypeOf<CodesignException>().With.Message.Contain("'sleep 30' did not finish").And.Message.Contain("SOME_SETTING"));
    }

    [Test]
    public void A_missing_tool_names_its_package()
    {
        Assert.That(() => ExternalTool.Run("codesign-no-such-tool", "some-package", [], TimeSpan.FromSeconds(5)),
            Throws.TypeOf<ToolMissingException>().With.Message.Contain("apt-get install some-package"));
    }

    [Test]
    public void A_run_that_finishes_returns_its_output_though_a_token_was_given()
    {
        using var cancel = new CancellationTokenSource();
        var result = ExternalTool.Run("echo", "coreutils", ["done"], TimeSpan.FromSeconds(10), cancel: cancel.Token);
        Assert.That((result.ExitCode, result.Output.Trim()), Is.EqualTo((0, "done")));
    }
}
