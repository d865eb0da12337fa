// The Java oracle: Apache Kafka's own classes (kafka-clients) answering questions about bytes,
// one line in, one line out, over stdin/stdout. Started once per test binary by
// tests/tests/support/java_oracle.rs, which compiles this file with javac into the target
// directory. Every answer is `ok ...` or `err <exception class>: <message>`; the process exits
// when stdin closes.
//
// Commands (hex is lower-case, `-` stands for no bytes):
//   versions                         every message kind with its version range, `;`-separated
//                                    `kind:lowest:highest` (kinds as below)
//   errors                           every Errors constant: `code:NAME:retriable`, `;`-separated
//   read <kind> <version> <hex>      the generated *Data class of <kind> reads the bytes at
//                                    <version>; answers `ok <bytes left> <hex written back> <json>`
//                                    (`!reason` instead of the hex when writing back fails)
//   random <kind> <version> <seed>   a random instance built from Kafka's own schema of that
//                                    version (values per field type, nullability and tagged
//                                    fields honoured) and written by Kafka's *Data class;
//                                    answers `ok <hex> <json>`
//   records <hex>                    MemoryRecords reads a record set: every batch is checked
//                                    with ensureValid() and every record read; answers
//                                    `ok <dump>` (see dump())
//   build <magic> <codec> <timestamp type> <base offset> <producer id> <producer epoch>
//         <base sequence> <transactional 0/1> <records> <seed>
//                                    MemoryRecordsBuilder writes one batch of random records;
//                                    answers `ok <hex>`
//   control <commit|abort> <producer id> <epoch> <coordinator epoch> <offset>
//                                    an end-transaction marker batch; answers `ok <hex>`
//   decompress <codec> <hex>         Kafka's decompressing stream for that codec read to its
//                                    end; answers `ok <hex>`
//   utf8 <hex>                       the bytes decoded as Kafka decodes strings (new String(bytes,
//                                    UTF_8)), encoded back; answers `ok <hex>`
//   request-frame <hex>              a request frame (no size prefix) parsed as the broker does:
//                                    RequestHeader.parse, then AbstractRequest.parseRequest;
//                                    answers `ok <bytes left> <api key> <version> <correlation id>`
//   response-frame <api key> <version> <correlation id> <hex>
//                                    a response frame parsed as the client does
//                                    (AbstractResponse.parseResponse); answers `ok <bytes left>`
//
// Kinds: `request:<api key>`, `response:<api key>`, `header:request`, `header:response`,
// `data:<class name>` (the data schemas of org.apache.kafka.common.message).

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.types.ArrayOf;
import org.apache.kafka.common.protocol.types.BoundField;
import org.apache.kafka.common.protocol.types.CompactArrayOf;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.RawTaggedField;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Struct;
import org.apache.kafka.common.protocol.types.TaggedFields;
import org.apache.kafka.common.protocol.types.Type;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestAndSize;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;

public final class Oracle {
    static final String[] DATA_CLASSES = {
        "AbortedTxn", "ControlRecordTypeSchema", "EndTxnMarker", "ConsumerProtocolAssignment",
        "ConsumerProtocolSubscription", "DefaultPrincipalData", "KRaftVersionRecord", "LeaderChangeMessage",
        "SnapshotFooterRecord", "SnapshotHeaderRecord", "VotersRecord",
    };

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, "UTF-8");
        // Nothing but answers on stdout: Kafka's classes log through slf4j (no binding: silent).
        System.setOut(System.err);
        out.println("ready");
        out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String answer;
            try {
                answer = "ok " + handle(line.trim().split(" "));
            } catch (Throwable t) {
                answer = "err " + t.getClass().getName() + ": " + String.valueOf(t.getMessage()).replace('\n', ' ');
            }
            out.println(answer);
            out.flush();
        }
    }

    static String handle(String[] a) throws Exception {
        switch (a[0]) {
            case "versions": return versions();
            case "errors": return errors();
            case "read": return read(a[1], Short.parseShort(a[2]), unhex(a[3]));
            case "random": return random(a[1], Short.parseShort(a[2]), Long.parseLong(a[3]));
            case "records": return dump(unhex(a[1]));
            case "build": return build(a);
            case "control": return control(a);
            case "decompress": return decompress(a[1], unhex(a[2]));
            case "utf8": return wire(new String(unhex(a[1]), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
            case "request-frame": return requestFrame(unhex(a[1]));
            case "response-frame": return responseFrame(Short.parseShort(a[1]), Short.parseShort(a[2]), Integer.parseInt(a[3]), unhex(a[4]));
            default: throw new IllegalArgumentException("unknown command " + a[0]);
        }
    }

    // ---- messages ------------------------------------------------------------------------------

    static Message newMessage(String kind) throws Exception {
        String[] k = kind.split(":");
        switch (k[0]) {
            case "request": return ApiMessageType.fromApiKey(Short.parseShort(k[1])).newRequest();
            case "response": return ApiMessageType.fromApiKey(Short.parseShort(k[1])).newResponse();
            case "header": return k[1].equals("request") ? new RequestHeaderData() : new ResponseHeaderData();
            case "data": return (Message) Class.forName("org.apache.kafka.common.message." + k[1]).getConstructor().newInstance();
            default: throw new IllegalArgumentException("unknown kind " + kind);
        }
    }

    static Schema[] schemas(String kind) throws Exception {
        String[] k = kind.split(":");
        switch (k[0]) {
            case "request": return ApiMessageType.fromApiKey(Short.parseShort(k[1])).requestSchemas();
            case "response": return ApiMessageType.fromApiKey(Short.parseShort(k[1])).responseSchemas();
            default: return (Schema[]) newMessage(kind).getClass().getField("SCHEMAS").get(null);
        }
    }

    static String versions() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (ApiMessageType t : ApiMessageType.values()) {
            // Every version the generated classes can read, unstable ones included.
            short lo = t.lowestSupportedVersion(), hi = t.highestSupportedVersion(true);
            sb.append("request:").append(t.apiKey()).append(':').append(lo).append(':').append(hi).append(';');
            sb.append("response:").append(t.apiKey()).append(':').append(lo).append(':').append(hi).append(';');
        }
        for (String kind : new String[] {"header:request", "header:response"}) {
            Message m = newMessage(kind);
            sb.append(kind).append(':').append(m.lowestSupportedVersion()).append(':').append(m.highestSupportedVersion()).append(';');
        }
        for (String c : DATA_CLASSES) {
            Message m = newMessage("data:" + c);
            sb.append("data:").append(c).append(':').append(m.lowestSupportedVersion()).append(':').append(m.highestSupportedVersion()).append(';');
        }
        return sb.toString();
    }

    static byte[] write(Message m, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = m.size(cache, version);
        ByteBuffer buf = ByteBuffer.allocate(size);
        m.write(new ByteBufferAccessor(buf), cache, version);
        if (buf.hasRemaining()) throw new IllegalStateException("size() said " + size + ", write() left " + buf.remaining());
        return buf.array();
    }

    static String json(Message m, short version) {
        try {
            Class<?> conv = Class.forName(m.getClass().getName() + "JsonConverter");
            Method w = conv.getMethod("write", m.getClass(), short.class);
            JsonNode node = (JsonNode) w.invoke(null, m, version);
            return node.toString();
        } catch (ReflectiveOperationException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return "{\"_json_error\":\"" + c.getClass().getSimpleName() + "\"}";
        }
    }

    static String read(String kind, short version, byte[] bytes) throws Exception {
        Message m = newMessage(kind);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        m.read(new ByteBufferAccessor(buf), version);
        String written;
        try {
            written = wire(write(m, version));
        } catch (RuntimeException e) {
            // Read, but not writable back (e.g. unknown tags out of order): `!` and the reason,
            // spaces as underscores.
            written = "!" + (e.getClass().getSimpleName() + ": " + e.getMessage()).replace(' ', '_').replace('\n', '_');
        }
        return buf.remaining() + " " + written + " " + json(m, version);
    }

    static String random(String kind, short version, long seed) throws Exception {
        Schema schema = schemas(kind)[version];
        if (schema == null) throw new IllegalArgumentException(kind + " has no schema of version " + version);
        Random r = new Random(seed);
        Struct s = randomStruct(schema, r, 0);
        ByteBuffer buf = ByteBuffer.allocate(s.sizeOf());
        s.writeTo(buf);
        buf.flip();
        // Kafka's *Data class reads what the schema wrote and writes its own bytes.
        Message m = newMessage(kind);
        m.read(new ByteBufferAccessor(buf), version);
        if (buf.hasRemaining()) throw new IllegalStateException(buf.remaining() + " bytes left by the Data class");
        return wire(write(m, version)) + " " + json(m, version);
    }

    static Struct randomStruct(Schema schema, Random r, int depth) {
        Struct s = new Struct(schema);
        for (BoundField f : schema.fields()) s.set(f, randomValue(f.def.type, r, depth));
        return s;
    }

    static final String[] WORDS = {"", "a", "orders", "topic-1", "grüße", "日本", "x y", "_tagged", "ü"};

    static Object randomValue(Type t, Random r, int depth) {
        if (t instanceof TaggedFields) {
            TreeMap<Integer, Object> tags = new TreeMap<>();
            for (Map.Entry<Integer, Field> e : ((TaggedFields) t).fields().entrySet()) {
                if (r.nextInt(3) != 0) tags.put(e.getKey(), randomValue(e.getValue().type, r, depth + 1));
            }
            if (r.nextInt(4) == 0) {
                byte[] raw = new byte[r.nextInt(4)];
                r.nextBytes(raw);
                tags.put(10_000 + r.nextInt(5000), new RawTaggedField(0, raw));
            }
            // RawTaggedField's own tag is not written: the map key is.
            for (Map.Entry<Integer, Object> e : tags.entrySet()) {
                if (e.getValue() instanceof RawTaggedField) e.setValue(new RawTaggedField(e.getKey(), ((RawTaggedField) e.getValue()).data()));
            }
            return tags;
        }
        if (t.isNullable() && r.nextInt(5) == 0) return null;
        if (t instanceof Schema) return randomStruct((Schema) t, r, depth + 1);
        if (t instanceof ArrayOf || t instanceof CompactArrayOf) {
            Type e = t.arrayElementType().get();
            int n = depth > 3 ? r.nextInt(2) : r.nextInt(4);
            Object[] a = new Object[n];
            for (int i = 0; i < n; i++) a[i] = randomValue(e, r, depth + 1);
            return a;
        }
        if (t == Type.BOOLEAN) return r.nextBoolean();
        if (t == Type.INT8) return (byte) pick(r, Byte.MIN_VALUE, Byte.MAX_VALUE);
        if (t == Type.INT16) return (short) pick(r, Short.MIN_VALUE, Short.MAX_VALUE);
        if (t == Type.UINT16) return (int) pick(r, 0, 65535);
        if (t == Type.INT32) return (int) pick(r, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (t == Type.UNSIGNED_INT32) return pick(r, 0, 0xffffffffL);
        if (t == Type.INT64) return r.nextInt(3) == 0 ? pick(r, Long.MIN_VALUE, Long.MAX_VALUE) : r.nextLong();
        if (t == Type.FLOAT64) return r.nextInt(4) == 0 ? (double) r.nextInt(100) : r.nextGaussian() * 1e6;
        if (t == Type.UUID) return r.nextInt(4) == 0 ? Uuid.ZERO_UUID : new Uuid(r.nextLong(), r.nextLong());
        if (t == Type.STRING || t == Type.COMPACT_STRING || t == Type.NULLABLE_STRING || t == Type.COMPACT_NULLABLE_STRING) {
            StringBuilder sb = new StringBuilder();
            for (int i = r.nextInt(3); i > 0; i--) sb.append(WORDS[r.nextInt(WORDS.length)]);
            return sb.toString();
        }
        if (t == Type.BYTES || t == Type.COMPACT_BYTES || t == Type.NULLABLE_BYTES || t == Type.COMPACT_NULLABLE_BYTES) {
            byte[] b = new byte[r.nextInt(8)];
            r.nextBytes(b);
            return ByteBuffer.wrap(b);
        }
        if (t == Type.RECORDS || t == Type.COMPACT_RECORDS || t == Type.NULLABLE_RECORDS || t == Type.COMPACT_NULLABLE_RECORDS) {
            // A real record set (one small batch); the message codec keeps its bytes as they are.
            MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), Compression.NONE, TimestampType.CREATE_TIME, r.nextInt(100));
            for (int i = r.nextInt(3); i > 0; i--) b.append(r.nextInt(1000), bytes(r, 3), bytes(r, 5));
            return b.build();
        }
        throw new IllegalArgumentException("no random value for type " + t);
    }

    /// An interesting value of an integer range: a bound, zero, -1 or a random one.
    static long pick(Random r, long min, long max) {
        switch (r.nextInt(8)) {
            case 0: return min;
            case 1: return max;
            case 2: return Math.max(min, 0);
            case 3: return min < 0 ? -1 : 1;
            default:
                long span = max - min + 1;
                if (span <= 0) return r.nextLong();
                return min + Math.floorMod(r.nextLong(), span);
        }
    }

    static byte[] bytes(Random r, int max) {
        if (r.nextInt(5) == 0) return null;
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return b;
    }

    static String requestFrame(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        RequestHeader h = RequestHeader.parse(buf);
        RequestAndSize r = AbstractRequest.parseRequest(h.apiKey(), h.apiVersion(), new ByteBufferAccessor(buf));
        return buf.remaining() + " " + h.apiKey().id + " " + h.apiVersion() + " " + h.correlationId();
    }

    static String responseFrame(short key, short version, int correlationId, byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        RequestHeader h = new RequestHeader(ApiKeys.forId(key), version, "oracle", correlationId);
        AbstractResponse.parseResponse(buf, h);
        return String.valueOf(buf.remaining());
    }

    // ---- errors --------------------------------------------------------------------------------

    static String errors() {
        StringBuilder sb = new StringBuilder();
        for (Errors e : Errors.values()) {
            sb.append(e.code()).append(':').append(e.name()).append(':').append(e.exception() instanceof org.apache.kafka.common.errors.RetriableException ? 1 : 0).append(';');
        }
        return sb.toString();
    }

    // ---- records -------------------------------------------------------------------------------

    /// One line for a record set: per batch `B magic base last codec tstype maxts txn control
    /// pid epoch seq leaderEpoch count`, then per record `R offset timestamp key value headers`
    /// (`-` for null; header `hex(key UTF-8 as Java decoded it)=value`, comma-separated).
    static String dump(byte[] bytes) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(bytes));
        List<String> parts = new ArrayList<>();
        for (MutableRecordBatch b : records.batches()) {
            b.ensureValid();
            List<Record> rs = new ArrayList<>();
            for (Record rec : b) rs.add(rec);
            parts.add("B " + b.magic() + " " + b.baseOffset() + " " + b.lastOffset() + " " + b.compressionType().id
                + " " + b.timestampType().id + " " + b.maxTimestamp() + " " + (b.isTransactional() ? 1 : 0)
                + " " + (b.isControlBatch() ? 1 : 0) + " " + b.producerId() + " " + b.producerEpoch()
                + " " + b.baseSequence() + " " + b.partitionLeaderEpoch() + " " + rs.size());
            for (Record rec : rs) {
                rec.ensureValid();
                StringBuilder sb = new StringBuilder();
                sb.append("R ").append(rec.offset()).append(' ').append(rec.timestamp()).append(' ')
                    .append(hexOrDash(rec.key())).append(' ').append(hexOrDash(rec.value())).append(' ');
                Header[] hs = rec.headers();
                if (hs.length == 0) sb.append('-');
                for (int i = 0; i < hs.length; i++) {
                    if (i > 0) sb.append(',');
                    sb.append(hex(hs[i].key().getBytes(StandardCharsets.UTF_8))).append('=')
                        .append(hs[i].value() == null ? "-" : "." + hex(hs[i].value()));
                }
                parts.add(sb.toString());
            }
        }
        return String.join(" | ", parts);
    }

    static Compression compression(String codec) {
        return Compression.of(CompressionType.forName(codec)).build();
    }

    static String build(String[] a) {
        byte magic = Byte.parseByte(a[1]);
        Compression c = compression(a[2]);
        TimestampType tt = a[3].equals("log") ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
        long baseOffset = Long.parseLong(a[4]);
        long pid = Long.parseLong(a[5]);
        short epoch = Short.parseShort(a[6]);
        int seq = Integer.parseInt(a[7]);
        boolean txn = a[8].equals("1");
        int n = Integer.parseInt(a[9]);
        Random r = new Random(Long.parseLong(a[10]));
        long logAppendTime = tt == TimestampType.LOG_APPEND_TIME ? 1_700_000_000_000L : RecordBatch.NO_TIMESTAMP;
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        MemoryRecordsBuilder b = MemoryRecords.builder(buf, magic, c, tt, baseOffset, logAppendTime, pid, epoch, seq, txn, 7);
        long ts = 1_600_000_000_000L + r.nextInt(1000);
        for (int i = 0; i < n; i++) {
            ts += r.nextInt(50) - 10;
            byte[] key = bytes(r, 6);
            byte[] value = r.nextInt(6) == 0 ? null : new byte[r.nextInt(3) == 0 ? 2000 + r.nextInt(3000) : r.nextInt(40)];
            if (value != null) {
                // Compressible: a repeated pattern with some noise.
                for (int j = 0; j < value.length; j++) value[j] = (byte) (j % 17 == 0 ? r.nextInt(256) : 'a' + j % 7);
            }
            Header[] headers = new Header[0];
            if (magic >= 2) {
                headers = new Header[r.nextInt(3)];
                for (int j = 0; j < headers.length; j++) headers[j] = new RecordHeader(WORDS[r.nextInt(WORDS.length)] + j, bytes(r, 4));
            }
            if (magic == 0) b.append(RecordBatch.NO_TIMESTAMP, key, value);
            else b.append(ts, key, value, headers);
        }
        MemoryRecords m = b.build();
        return hex(m.buffer());
    }

    static String control(String[] a) {
        ControlRecordType type = a[1].equals("commit") ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
        long pid = Long.parseLong(a[2]);
        short epoch = Short.parseShort(a[3]);
        int coordinatorEpoch = Integer.parseInt(a[4]);
        long offset = Long.parseLong(a[5]);
        MemoryRecords m = MemoryRecords.withEndTransactionMarker(offset, 1_650_000_000_000L, 3, pid, epoch,
            new EndTransactionMarker(type, coordinatorEpoch));
        return hex(m.buffer());
    }

    static String decompress(String codec, byte[] bytes) throws Exception {
        Compression c = compression(codec);
        try (InputStream s = c.wrapForInput(ByteBuffer.wrap(bytes), RecordBatch.MAGIC_VALUE_V2, BufferSupplier.NO_CACHING)) {
            return wire(s.readAllBytes());
        }
    }

    // ---- hex -----------------------------------------------------------------------------------

    /// In a dump: `-` for null, else `.` and the hex digits (so that empty is `.`).
    static String hexOrDash(ByteBuffer b) {
        return b == null ? "-" : "." + hex(b);
    }

    static String hex(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return hex(a);
    }

    static final char[] DIGITS = "0123456789abcdef".toCharArray();

    /// Message bytes on the command line: `-` for none.
    static String wire(byte[] a) {
        return a.length == 0 ? "-" : hex(a);
    }

    static String hex(byte[] a) {
        char[] c = new char[a.length * 2];
        for (int i = 0; i < a.length; i++) {
            c[2 * i] = DIGITS[(a[i] >> 4) & 15];
            c[2 * i + 1] = DIGITS[a[i] & 15];
        }
        return new String(c);
    }

    static byte[] unhex(String s) {
        if (s.equals("-")) return new byte[0];
        byte[] a = new byte[s.length() / 2];
        for (int i = 0; i < a.length; i++) a[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return a;
    }
}
