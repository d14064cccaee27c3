using Google.Protobuf;

namespace Codesign.Runtime.Text;

/// <summary>SentencePiece piece types, as in sentencepiece_model.proto.</summary>
public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

public sealed record SentencePiece(string Piece, float Score, PieceType Type);

/// <summary>
/// The parts of a SentencePiece <c>ModelProto</c> (tokenizer.model) that encoding needs, read field by
/// field from the protobuf wire format (field numbers from sentencepiece_model.proto).
/// </summary>
public sealed class SentencePieceModel
{
    public const int BpeModelType = 2;

    public required IReadOnlyList<SentencePiece> Pieces { get; init; }
    public int ModelType { get; init; } = 1;
    public bool ByteFallback { get; init; }
    public int UnkId { get; init; }
    public int BosId { get; init; } = 1;
    public int EosId { get; init; } = 2;
    public bool AddDummyPrefix { get; init; } = true;
    public bool RemoveExtraWhitespaces { get; init; } = true;
    public bool EscapeWhitespaces { get; init; } = true;
    public bool TreatWhitespaceAsSuffix { get; init; }
    public int PrecompiledCharsMapLength { get; init; }

    /// <summary>Reads a byte piece's value: "&lt;0x41&gt;" is 0x41.</summary>
    public static bool TryParseBytePiece(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    public static SentencePieceModel Parse(byte[] bytes)
    {
        var pieces = new List<SentencePiece>();
        int modelType = 1, unkId = 0, bosId = 1, eosId = 2, charsMap = 0;
        bool byteFallback = false, dummyPrefix = true, removeExtra = true, escape = true, suffix = false;
        var top = new CodedInputStream(bytes);
        uint tag;
        while ((tag = top.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    pieces.Add(ReadPiece(top.ReadBytes()));
                    break;
                case 2:
                    ForEachField(top.ReadBytes(), (field, s) =>
                    {
                        switch (field)
                        {
                            case 3: modelType = s.ReadEnum(); break;
                            case 24: suffix = s.ReadBool(); break;
                            case 35: byteFallback = s.ReadBool(); break;
                            case 40: unkId = s.ReadInt32(); break;
                            case 41: bosId = s.ReadInt32(); break;
                            case 42: eosId = s.ReadInt32(); break;
                            default: s.SkipLastField(); break;
                        }
                    });
                    break;
                case 3:
                    ForEachField(top.ReadBytes(), (field, s) =>
                    {
                        switch (field)
                        {
                            case 2: charsMap = s.ReadBytes().Length; break;
                            case 3: dummyPrefix = s.ReadBool(); break;
                            case 4: removeExtra = s.ReadBool(); break;
                            case 5: escape = s.ReadBool(); break;
                            default: s.SkipLastField(); break;
                        }
                    });
                    break;
                default:
                    top.SkipLastField();
                    break;
            }
        }
        return new SentencePieceModel
        {
            Pieces = pieces, ModelType = modelType, ByteFallback = byteFallback, UnkId = unkId, BosId = bosId, EosId = eosId,
            AddDummyPrefix = dummyPrefix, RemoveExtraWhitespaces = removeExtra, EscapeWhitespaces = escape,
            TreatWhitespaceAsSuffix = suffix, PrecompiledCharsMapLength = charsMap,
        };
    }

    private static SentencePiece ReadPiece(ByteString bytes)
    {
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        ForEachField(bytes, (field, s) =>
        {
            switch (field)
            {
                case 1: piece = s.ReadString(); break;
                case 2: score = s.ReadFloat(); break;
                case 3: type = (PieceType)s.ReadEnum(); break;
                default: s.SkipLastField(); break;
            }
        });
        return new SentencePiece(piece, score, type);
    }

    private static void ForEachField(ByteString bytes, Action<int, CodedInputStream> read)
    {
        var s = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = s.ReadTag()) != 0) read(WireFormat.GetTagFieldNumber(tag), s);
    }
}
