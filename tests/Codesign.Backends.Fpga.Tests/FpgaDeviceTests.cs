using System.Text.Json.Nodes;
using Codesign.Backends.Fpga.Devices;
using Codesign.IR.Diagnostics;
using Codesign.Testing;

namespace Codesign.Backends.Fpga.Tests;

/// <summary>The built-in device descriptions carry the data sheets' figures; a malformed description is refused naming the file and field.</summary>
public class FpgaDeviceTests
{
    [Test]
    public void The_u280_and_zcu104_carry_their_data_sheet_resources()
    {
        Assert.That(FpgaDevices.BuiltIn, Is.EquivalentTo(new[] { "u280", "zcu104" }));
        var u280 = FpgaDevices.Load("u280");
        Assert.That((u280.Resources.Dsp, u280.Resources.Lut, u280.Resources.Ff, u280.Resources.Bram36, u280.Resources.Uram, u280.Resources.Slr),
            Is.EqualTo((9024L, 1303680L, 2607360L, 2016L, 960L, 3)));
        // bandwidth is derived from the channels: 32 pseudo channels of 256 bits at 449.22 MHz, 14.375 GB/s each
        Assert.That((u280.WeightMemory.Name, u280.WeightMemory.Channels, u280.WeightMemory.ChannelGbytesPerSecond), Is.EqualTo(("hbm", 32, 14.375)));
        Assert.That(u280.WeightMemory.GbytesPerSecond, Is.EqualTo(460.0).Within(1e-9));
        Assert.That(u280.BytesPerCycle, Is.EqualTo(460e9 / 225e6).Within(1e-9), "HBM bytes per 225 MHz cycle");
        Assert.That((u280.SystemMemory.Name, u280.SystemMemory.GbytesPerSecond), Is.EqualTo(("ddr", 38.4)), "inputs, constants and KV caches go to the DDR4");
        var zcu104 = FpgaDevices.Load("zcu104");
        Assert.That((zcu104.Resources.Dsp, zcu104.Resources.Lut, zcu104.Resources.Bram36, zcu104.Resources.Uram), Is.EqualTo((1728L, 230400L, 312L, 96L)));
        Assert.That(zcu104.WeightMemory.Kind, Is.EqualTo("ddr4"));
        Assert.That(zcu104.SystemMemory, Is.SameAs(zcu104.WeightMemory), "one memory: the system port and the cores share it");
    }

    [Test]
    public void A_description_file_is_loaded_by_path_and_an_unknown_name_lists_the_built_in_ones()
    {
        string dir = TestPaths.NewScratchDirectory("devices");
        try
        {
            string path = Path.Combine(dir, "mine.json");
            File.WriteAllText(path, Edited(j => j["name"] = "mine"));
            Assert.That(FpgaDevices.Load(path).Name, Is.EqualTo("mine"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.That(() => FpgaDevices.Load("vu19p"), Throws.TypeOf<CodesignException>().With.Message.EqualTo("fpga device 'vu19p': neither a file nor a built-in device (built in: u280, zcu104)"));
    }

    [TestCase("resources.dsp", -1, "x.json: resources.dsp is -1; expected 1 to 10^6")]
    [TestCase("clock_mhz", 0, "x.json: clock_mhz is 0; expected above 0 and at most 1000")]
    [TestCase("family", "altera", "x.json: family is 'altera'; expected one of xcup, xcu, xc7")]
    [TestCase("memories.0.channels", 0, "x.json: memories[0] (hbm).channels is 0; expected 1 to 1024")]
    [TestCase("memories.0.channel_bits", 12, "x.json: memories[0] (hbm).channel_bits is 12; expected a whole number of bytes, 8 to 4096 bits")]
    [TestCase("memories.0.channel_mhz", 0, "x.json: memories[0] (hbm).channel_mhz is 0; expected above 0 and at most 10^4")]
    [TestCase("memories.0.bytes", 1000, "x.json: memories[0] (hbm).bytes is 1000; expected a multiple of its 32 channels")]
    [TestCase("name", "../etc", "x.json: name is '../etc'")]
    public void An_out_of_range_field_is_refused_with_the_file_and_field_named(string field, object value, string message)
    {
        string json = Edited(j =>
        {
            var parts = field.Split('.');
            JsonNode node = j;
            foreach (var p in parts[..^1]) node = int.TryParse(p, out int i) ? node[i]! : node[p]!;
            node[parts[^1]] = JsonValue.Create(value);
        });
        Assert.That(() => FpgaDevices.Parse(json, "x.json"), Throws.TypeOf<CodesignException>().With.Message.StartWith(message));
    }

    [Test]
    public void Malformed_json_unknown_fields_and_missing_fields_are_refused()
    {
        string json = Edited(_ => { });
        Assert.That(() => FpgaDevices.Parse(json[..(json.Length / 2)], "x.json"), Throws.TypeOf<CodesignException>().With.Message.StartWith("x.json: not a valid device description"));
        Assert.That(() => FpgaDevices.Parse(Edited(j => j["dsp_slices"] = 4), "x.json"), Throws.TypeOf<CodesignException>().With.Message.Contain("dsp_slices"));
        Assert.That(() => FpgaDevices.Parse(Edited(j => j.AsObject().Remove("resources")), "x.json"), Throws.TypeOf<CodesignException>().With.Message.Contain("resources"));
        Assert.That(() => FpgaDevices.Parse("null", "x.json"), Throws.TypeOf<CodesignException>().With.Message.EqualTo("x.json: is empty (null)"));
    }

    private static string Edited(Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "devices", "u280.json")))!;
        edit(json);
        return json.ToJsonString();
    }
}
