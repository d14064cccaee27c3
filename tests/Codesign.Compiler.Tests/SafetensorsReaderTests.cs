using System.Buffers.Binary;
using System.Text;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Frontends.Safetensors;
using Codesign.IR.Types;
using Codesign.Testing;

namespace Codesign.Compiler.Tests;

public class SafetensorsReaderTests : ScratchDirectoryTest
{
    private string WriteRaw(string header, int dataBytes, ulong? claimedHeaderLength = null)
    {
        string path = Path.Combine(Scratch, $"{Guid.NewGuid():N}.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedHeaderLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void Writer_output_reads_back_with_dtypes_shapes_and_values()
    {
        string path = Path.Combine(Scratch, "ok.safetensors");
        var a = new float[] { 1.5f, -2, 3, 4, 5, 6 };
        SafetensorsWriter.Write(path, [
            SafetensorsWriter.Float32("a", [2, 3], a),
            new SafetensorsTensor("ids", "I64", [2], BitConverter.GetBytes(7L).Concat(BitConverter.GetBytes(-1L)).ToArray()),
            new SafetensorsTensor("empty", "F16", [0, 4], Array.Empty<byte>()),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        using var f = SafetensorsFile.Open(path);
        Assert.That(f.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(f.ReadFloat32("a"), Is.EqualTo(a));
        Assert.That(f.ReadInt64("ids"), Is.EqualTo(new[] { 7L, -1L }));
        var t = f.Tensor("a");
        Assert.That((t.DType, t.Shape), Is.EqualTo((DType.F32, new long[] { 2, 3 })));
        Assert.That(f.Tensor("empty").ElementCount, Is.Zero);
    }

    [Test]
    public void A_file_shorter_than_the_length_prefix_is_truncated()
    {
        string path = Path.Combine(Scratch, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Message, Does.Contain("truncated").And.Contain(path));
    }

    [Test]
    public void A_header_length_beyond_the_file_is_rejected_before_reading()
    {
        string path = WriteRaw("{}", 0, claimedHeaderLength: ulong.MaxValue / 2);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Message, Does.Contain("header length"));
    }

    [Test]
    public void A_file_cut_inside_the_data_names_the_tensor()
    {
        string good = Path.Combine(Scratch, "good.safetensors");
        SafetensorsWriter.Write(good, [SafetensorsWriter.Float32("weight.a", [4, 4], new float[16])]);
        var bytes = File.ReadAllBytes(good);
        string cut = Path.Combine(Scratch, "cut.safetensors");
        File.WriteAllBytes(cut, bytes[..^10]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(cut))!;
        Assert.That(e.Tensor, Is.EqualTo("weight.a"));
        Assert.That(e.Message, Does.Contain("outside"));
    }

    [Test]
    public void Offsets_past_the_end_name_the_tensor()
    {
        string path = WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Tensor, Is.EqualTo("w"));
    }

    [TestCase("[4611686018427387904, 4611686018427387904]")]
    [TestCase("[1000000000000, 1000000]")]
    [TestCase("[-1, 2]")]
    [TestCase("[2.5]")]
    public void Absurd_shapes_are_rejected_without_allocating(string shape)
    {
        string path = WriteRaw($"{{\"huge\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,8]}}}}", 8);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(10_000_000));
        Assert.That(e.Tensor, Is.EqualTo("huge"));
    }

    [Test]
    public void A_byte_count_that_disagrees_with_the_shape_is_an_error()
    {
        string path = WriteRaw("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Message, Does.Contain("needs 6"));
    }

    [TestCase("not json", "not valid JSON")]
    [TestCase("[1,2]", "not a JSON object")]
    [TestCase("{\"w\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,1]}}", "unknown dtype 'F7'")]
    [TestCase("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "missing dtype")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets")]
    [TestCase("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "outside")]
    public void Malformed_headers_give_clear_errors(string header, string message)
    {
        string path = WriteRaw(header, 8);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path))!;
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void A_missing_file_is_a_model_format_error()
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(Path.Combine(Scratch, "absent.safetensors")))!;
        Assert.That(e.File, Does.EndWith("absent.safetensors"));
    }
}
