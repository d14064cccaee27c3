using System.Text.Json;
using System.Text.Json.Serialization;
using Codesign.IR.Diagnostics;

namespace Codesign.Backends.Fpga.Devices;

/// <summary>
/// Loads device descriptions: by name from the ones built in (<c>devices/*.json</c>, embedded in this assembly) or
/// from a JSON file. Every figure is checked, and a description that is malformed or out of range is refused with the
/// file and the field named.
/// </summary>
public static class FpgaDevices
{
    private const long MaxFileBytes = 1 << 20;

    /// <summary>Yosys families a description may name (<c>synth_xilinx -family</c>).</summary>
    public static readonly string[] Families = ["xcup", "xcu", "xc7"];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 8,
    };

    /// <summary>The names of the built-in descriptions.</summary>
    public static IReadOnlyList<string> BuiltIn =>
        [.. typeof(FpgaDevices).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("devices/", StringComparison.Ordinal))
            .Select(n => Path.GetFileNameWithoutExtension(n)).Order(StringComparer.Ordinal)];

    /// <summary>A built-in device by name (<c>u280</c>), or a description file by path.</summary>
    public static FpgaDevice Load(string nameOrPath)
    {
        if (File.Exists(nameOrPath))
        {
            long length = new FileInfo(nameOrPath).Length;
            if (length > MaxFileBytes) throw new CodesignException($"{nameOrPath}: {length} bytes is too large for a device description");
            return Parse(File.ReadAllText(nameOrPath), nameOrPath);
        }
        using var stream = typeof(FpgaDevices).Assembly.GetManifestResourceStream($"devices/{nameOrPath}.json")
            ?? throw new CodesignException($"fpga device '{nameOrPath}': neither a file nor a built-in device (built in: {string.Join(", ", BuiltIn)})");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"devices/{nameOrPath}.json");
    }

    /// <param name="source">Names the description in errors.</param>
    public static FpgaDevice Parse(string json, string source)
    {
        FpgaDevice device;
        try
        {
            device = JsonSerializer.Deserialize<FpgaDevice>(json, Json) ?? throw new CodesignException($"{source}: is empty (null)");
        }
        catch (JsonException e)
        {
            throw new CodesignException($"{source}: not a valid device description: {e.Message}");
        }
        Check(device, source);
        return device;
    }

    /// <summary>Checks a description read some other way (an artifact's copy) as <see cref="Parse"/> does; <paramref name="source"/> names it in errors.</summary>
    public static void Check(FpgaDevice d, string source)
    {
        void Require(bool ok, string field, object value, string expected)
        {
            if (!ok) throw new CodesignException($"{source}: {field} is {value}; expected {expected}");
        }
        Require(d.Name.Length is > 0 and <= 64 && d.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'), "name", $"'{d.Name}'", "1 to 64 letters, digits, '-' or '_'");
        Require(Families.Contains(d.Family), "family", $"'{d.Family}'", $"one of {string.Join(", ", Families)}");
        var r = d.Resources;
        Require(r.Dsp is > 0 and < 1_000_000, "resources.dsp", r.Dsp, "1 to 10^6");
        Require(r.Lut is > 0 and < 100_000_000, "resources.lut", r.Lut, "1 to 10^8");
        Require(r.Ff is > 0 and < 100_000_000, "resources.ff", r.Ff, "1 to 10^8");
        Require(r.Bram36 is >= 0 and < 1_000_000, "resources.bram36", r.Bram36, "0 to 10^6");
        Require(r.Uram is >= 0 and < 1_000_000, "resources.uram", r.Uram, "0 to 10^6");
        Require(r.Slr is > 0 and <= 16, "resources.slr", r.Slr, "1 to 16");
        Require(d.ClockMhz is > 0 and <= 1000, "clock_mhz", d.ClockMhz, "above 0 and at most 1000");
        Require(d.Memories.Count is > 0 and <= 16, "memories", $"{d.Memories.Count} entries", "1 to 16");
        for (int i = 0; i < d.Memories.Count; i++)
        {
            var m = d.Memories[i];
            string at = $"memories[{i}] ({m.Name})";
            Require(m.Channels is > 0 and <= 1024, $"{at}.channels", m.Channels, "1 to 1024");
            Require(m.Bytes > 0, $"{at}.bytes", m.Bytes, "positive");
            Require(m.ChannelBits is >= 8 and <= 4096 && m.ChannelBits % 8 == 0, $"{at}.channel_bits", m.ChannelBits, "a whole number of bytes, 8 to 4096 bits");
            Require(m.ChannelMhz is > 0 and <= 10_000, $"{at}.channel_mhz", m.ChannelMhz, "above 0 and at most 10^4");
            Require(m.Bytes % m.Channels == 0, $"{at}.bytes", m.Bytes, $"a multiple of its {m.Channels} channels");
            Require(m.LatencyCycles is >= 0 and <= 100_000, $"{at}.latency_cycles", m.LatencyCycles, "0 to 10^5");
        }
    }
}
