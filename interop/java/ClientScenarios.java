// Scenarios of Apache Kafka's own Java client (kafka-clients), run by the `java_clients` test of
// kafka-wire-interop against the mock broker and against Apache Kafka.
//
// One scenario:   java -cp <kafka-clients classpath>:<dir> ClientScenarios <scenario> <bootstrap> [key=value ...]
// Many, at once:  the same without arguments; then each line on stdin is
//                 "<id> <scenario> <bootstrap> [key=value ...]", run in a thread of its own; the
//                 program halts when stdin closes (the test process is gone).
//
// Output, one line each, on stdout:
//   LOG <id> <text>                    progress
//   OK <id> key=value key=value ...    the outcome (values hold no spaces; lists are comma-separated)
//   FAILED <id> <exception>: <message> the scenario could not finish
// Keys starting with "ms_" are timings (milliseconds), keys starting with "info_" details that
// may differ with the broker's features; neither is part of the outcome to compare.
//
// Options (key=value): topic, group, prefix, codec, records, protocol (classic|consumer),
// security (PLAINTEXT|SASL_PLAINTEXT|SSL), mechanism, user, password, trust (the broker's
// certificate: its DER in base64), other_trust (a certificate the broker does not have).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class ClientScenarios {
    /** Only a hang reaches this: every wait below is for an event, bounded by it. */
    static final Duration HANG_GUARD = Duration.ofSeconds(120);
    static final Duration POLL = Duration.ofMillis(100);

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            String line = run("0", Arrays.asList(args));
            System.out.println(line);
            System.exit(line.startsWith("OK") ? 0 : 1);
        }
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "scenario");
            t.setDaemon(true);
            return t;
        });
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            List<String> words = Arrays.asList(line.trim().split("\\s+"));
            if (words.size() < 3) {
                System.out.println("FAILED " + words.get(0) + " IllegalArgumentException: want <id> <scenario> <bootstrap> [key=value ...]");
                continue;
            }
            String id = words.get(0);
            pool.submit(() -> System.out.println(run(id, words.subList(1, words.size()))));
        }
        // stdin closed: the test process is gone; no client thread may keep the JVM alive.
        Runtime.getRuntime().halt(0);
    }

    static String run(String id, List<String> words) {
        Scenario s = new Scenario(id, words.get(1));
        for (String w : words.subList(2, words.size())) {
            int eq = w.indexOf('=');
            if (eq > 0) s.opts.put(w.substring(0, eq), w.substring(eq + 1));
        }
        long start = System.nanoTime();
        try {
            switch (words.get(0)) {
                case "produce_consume" -> s.produceConsume();
                case "group" -> s.group();
                case "admin_topics" -> s.adminTopics();
                case "admin_partitions" -> s.adminPartitions();
                case "admin_groups" -> s.adminGroups();
                case "transactions" -> s.transactions();
                case "auth" -> s.auth();
                case "share" -> s.share();
                default -> throw new IllegalArgumentException("unknown scenario " + words.get(0));
            }
        } catch (Throwable e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            String message = String.valueOf(cause.getMessage()).replaceAll("\\s+", " ");
            return "FAILED " + id + " " + cause.getClass().getSimpleName() + ": " + message;
        }
        s.out.put("ms_total", String.valueOf((System.nanoTime() - start) / 1_000_000));
        StringBuilder b = new StringBuilder("OK ").append(id);
        s.out.forEach((k, v) -> b.append(' ').append(k).append('=').append(v.isEmpty() ? "-" : v.replaceAll("\\s+", "_")));
        return b.toString();
    }

    /** The record value of index `i`: its index, then padding (compressible). */
    static String payload(int i) {
        return String.format("record %05d %s", i, "abcdefgh".repeat(8));
    }

    static int indexOf(String value) {
        return Integer.parseInt(value.substring(7, 12));
    }

    static String simpleName(Throwable e) {
        Throwable c = e;
        while ((c instanceof ExecutionException || c.getClass() == org.apache.kafka.common.KafkaException.class) && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName();
    }

    static final class Scenario {
        final String id;
        final String bootstrap;
        final Map<String, String> opts = new HashMap<>();
        final Map<String, String> out = new LinkedHashMap<>();

        Scenario(String id, String bootstrap) {
            this.id = id;
            this.bootstrap = bootstrap;
        }

        String opt(String key, String fallback) {
            return opts.getOrDefault(key, fallback);
        }

        void log(String text) {
            System.out.println("LOG " + id + " " + text.replaceAll("\\s+", " "));
        }

        void put(String key, Object value) {
            out.put(key, String.valueOf(value));
        }

        /** Security settings every client of this scenario uses. */
        Properties common() {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            String security = opt("security", "PLAINTEXT");
            p.put("security.protocol", security);
            if (security.startsWith("SASL")) {
                String mechanism = opt("mechanism", "SCRAM-SHA-256");
                p.put("sasl.mechanism", mechanism);
                String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                        : "org.apache.kafka.common.security.scram.ScramLoginModule";
                p.put("sasl.jaas.config", module + " required username=\"" + opt("user", "") + "\" password=\"" + opt("password", "") + "\";");
            }
            if (security.endsWith("SSL")) {
                // The trusted certificate as its DER in base64, without line breaks (KIP-651 PEM trust store).
                p.put("ssl.truststore.type", "PEM");
                p.put("ssl.truststore.certificates", "-----BEGIN CERTIFICATE-----\n" + opt("trust", "") + "\n-----END CERTIFICATE-----");
            }
            return p;
        }

        Admin admin() {
            Properties p = common();
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "admin-" + id);
            return Admin.create(p);
        }

        KafkaProducer<String, String> producer(Map<String, Object> extra) {
            Properties p = common();
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "producer-" + id);
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.putAll(extra);
            return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        }

        KafkaConsumer<String, String> consumer(String group, String name, Map<String, Object> extra) {
            Properties p = common();
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, name + "-" + id);
            if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.putAll(extra);
            return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        }

        /** Waits (calling `step` between checks) until `done` holds; only a hang exceeds the guard. */
        void until(String what, BooleanSupplier done, Runnable step) {
            long deadline = System.nanoTime() + HANG_GUARD.toNanos();
            while (!done.getAsBoolean()) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("no " + what + " within " + HANG_GUARD);
                step.run();
            }
        }

        /**
         * Creates a topic and waits until every partition's leader serves it: a leader named in
         * the metadata may not have set its log up yet (NOT_LEADER_OR_FOLLOWER), and an
         * idempotent producer whose first batch meets that was seen to retry its later batches
         * with OUT_OF_ORDER_SEQUENCE_NUMBER until they expired (kafka-clients 4.4 on Kafka 4.4).
         * ListOffsets is answered by the leader only once it has the partition.
         */
        void createTopic(Admin admin, String name, int partitions) throws Exception {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
            until("description of " + name, () -> describable(admin, name), () -> {});
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (TopicPartition tp : partitions(name, partitions)) latest.put(tp, OffsetSpec.latest());
            admin.listOffsets(latest).all().get();
        }

        boolean describable(Admin admin, String name) {
            try {
                TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
                return d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
            } catch (Exception e) {
                pause();
                return false;
            }
        }

        static void pause() {
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Produces records [from, from + count) with the idempotent producer, record i to partition i % partitions. */
        void produce(KafkaProducer<String, String> producer, String topic, int from, int count, int partitions) throws Exception {
            List<Future<RecordMetadata>> sent = new ArrayList<>(count);
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % partitions, "key-" + i, payload(i))));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) f.get();
        }

        /** What consumers read: each index's count, and the indexes in the order read per partition. */
        static final class Seen {
            final Map<Integer, Integer> counts = new HashMap<>();
            final Map<Integer, List<Integer>> perPartition = new TreeMap<>();
            int total;

            void add(ConsumerRecords<String, String> records) {
                for (ConsumerRecord<String, String> r : records) {
                    int i = indexOf(r.value());
                    counts.merge(i, 1, Integer::sum);
                    perPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(i);
                    total++;
                }
            }

            int duplicates() {
                return counts.values().stream().mapToInt(c -> c - 1).sum();
            }

            int missing(int below) {
                int m = 0;
                for (int i = 0; i < below; i++) if (!counts.containsKey(i)) m++;
                return m;
            }

            int outOfOrder() {
                int bad = 0;
                for (List<Integer> l : perPartition.values()) {
                    for (int k = 1; k < l.size(); k++) if (l.get(k) <= l.get(k - 1)) bad++;
                }
                return bad;
            }

            String partitionCounts() {
                return perPartition.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue().size()).collect(Collectors.joining(","));
            }
        }

        /** Polls once; records what came and commits it synchronously. */
        void pollCommit(KafkaConsumer<String, String> consumer, Seen seen) {
            ConsumerRecords<String, String> records = consumer.poll(POLL);
            if (!records.isEmpty()) {
                seen.add(records);
                consumer.commitSync();
            }
        }

        static String offsets(Map<TopicPartition, ?> byPartition) {
            return new TreeMap<>(byPartition.entrySet().stream().collect(Collectors.toMap(e -> e.getKey().partition(), e -> {
                Object v = e.getValue();
                if (v == null) return "none";
                if (v instanceof OffsetAndMetadata o) return String.valueOf(o.offset());
                return String.valueOf(v);
            }))).entrySet().stream().map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(","));
        }

        static Set<TopicPartition> partitions(String topic, int n) {
            Set<TopicPartition> s = new HashSet<>();
            for (int p = 0; p < n; p++) s.add(new TopicPartition(topic, p));
            return s;
        }

        // -----------------------------------------------------------------------------------
        // produce_consume: the idempotent producer writes `records` records in `codec`; a
        // consumer group of one reads every one back, once, in order per partition.

        void produceConsume() throws Exception {
            String topic = opt("topic", "records");
            int n = Integer.parseInt(opt("records", "10000"));
            int partitions = 3;
            try (Admin admin = admin()) {
                createTopic(admin, topic, partitions);
            }
            long t0 = System.nanoTime();
            try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, opt("codec", "none")))) {
                produce(producer, topic, 0, n, partitions);
            }
            put("produced", n);
            put("ms_produce", (System.nanoTime() - t0) / 1_000_000);
            long t1 = System.nanoTime();
            Seen seen = new Seen();
            try (KafkaConsumer<String, String> consumer = consumer(topic + "-reader", "reader", Map.of())) {
                consumer.subscribe(List.of(topic));
                until(n + " records", () -> seen.total >= n, () -> pollCommit(consumer, seen));
                // Nothing more may come.
                for (int k = 0; k < 3; k++) pollCommit(consumer, seen);
                put("committed", offsets(consumer.committed(partitions(topic, partitions))));
                put("end_offsets", offsets(consumer.endOffsets(partitions(topic, partitions))));
            }
            put("ms_consume", (System.nanoTime() - t1) / 1_000_000);
            put("consumed", seen.total);
            put("duplicates", seen.duplicates());
            put("missing", seen.missing(n));
            put("out_of_order", seen.outOfOrder());
            put("per_partition", seen.partitionCounts());
        }

        // -----------------------------------------------------------------------------------
        // group: two members (group.protocol=classic or consumer) share a 4-partition topic;
        // one leaves, the other takes its partitions over from its commits.

        void group() throws Exception {
            String topic = opt("topic", "group");
            String group = opt("group", topic + "-group");
            String protocol = opt("protocol", "classic");
            int partitions = 4;
            int phase = 400;
            try (Admin admin = admin()) {
                createTopic(admin, topic, partitions);
            }
            Map<String, Object> extra = new HashMap<>();
            extra.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
            if (protocol.equals("classic")) {
                extra.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
                extra.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
            }
            // Classic generations count rebalances (1, 2, 3 here). KIP-848 member epochs follow
            // the group epoch, which Kafka also bumps when the subscribed topics' metadata changes:
            // reported, not compared.
            String epochs = protocol.equals("classic") ? "" : "info_";
            Seen seen = new Seen();
            Seen seenB = new Seen();
            try (KafkaProducer<String, String> producer = producer(Map.of());
                 KafkaConsumer<String, String> a = consumer(group, "a", extra)) {
                KafkaConsumer<String, String> b = consumer(group, "b", extra);
                try {
                    produce(producer, topic, 0, phase, partitions);
                    a.subscribe(List.of(topic));
                    until("a alone with 4 partitions and phase 1", () -> a.assignment().size() == 4 && seen.total == phase,
                            () -> pollCommit(a, seen));
                    put("a_alone", a.assignment().size());
                    put(epochs + "a_generation_alone", a.groupMetadata().generationId());
                    log("a has " + a.assignment());
                    b.subscribe(List.of(topic));
                    until("a and b with 2 partitions each", () -> a.assignment().size() == 2 && b.assignment().size() == 2, () -> {
                        pollCommit(a, seen);
                        pollCommit(b, seen);
                    });
                    log("a has " + a.assignment() + ", b has " + b.assignment());
                    put("a_shared", a.assignment().size());
                    put("b_shared", b.assignment().size());
                    produce(producer, topic, phase, phase, partitions);
                    until("phase 2", () -> seen.total == 2 * phase, () -> {
                        pollCommit(a, seen);
                        ConsumerRecords<String, String> records = b.poll(POLL);
                        if (!records.isEmpty()) {
                            seen.add(records);
                            seenB.add(records);
                            b.commitSync();
                        }
                    });
                    put("b_read", seenB.total);
                    put(epochs + "generations_shared", a.groupMetadata().generationId() + "," + b.groupMetadata().generationId());
                } finally {
                    b.close();
                }
                log("b closed");
                produce(producer, topic, 2 * phase, phase, partitions);
                until("a alone again with 4 partitions and phase 3", () -> a.assignment().size() == 4 && seen.total == 3 * phase,
                        () -> pollCommit(a, seen));
                put("a_after_leave", a.assignment().size());
                put(epochs + "a_generation_after_leave", a.groupMetadata().generationId());
                put("committed", offsets(a.committed(partitions(topic, partitions))));
            }
            put("consumed", seen.total);
            put("duplicates", seen.duplicates());
            put("missing", seen.missing(3 * phase));
            put("out_of_order", seen.outOfOrder());
        }

        // -----------------------------------------------------------------------------------
        // share: a share group (KIP-932) of one KafkaShareConsumer with explicit
        // acknowledgements: every tenth record is released on its first delivery and comes back
        // with delivery count 2; the others are accepted. share.auto.offset.reset is latest, so
        // the scenario first produces "warmup" records until one arrives (the share partition
        // exists from then on); warmups are accepted and not counted.

        void share() throws Exception {
            String topic = opt("topic", "share");
            String group = opt("group", topic + "-group");
            int count = 200;
            try (Admin admin = admin()) {
                createTopic(admin, topic, 1);
            }
            Properties p = common();
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, "share-" + id);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put("share.acknowledgement.mode", "explicit");
            Set<Integer> accepted = new TreeSet<>();
            Map<Integer, Integer> deliveries = new HashMap<>();
            int[] released = {0};
            int[] maxDeliveryCount = {0};
            boolean[] warm = {false};
            try (KafkaProducer<String, String> producer = producer(Map.of());
                 KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                c.subscribe(List.of(topic));
                Runnable pollAck = () -> {
                    for (ConsumerRecord<String, String> r : c.poll(POLL)) {
                        int count2 = r.deliveryCount().map(Short::intValue).orElse(-1);
                        if (r.value().equals("warmup")) {
                            warm[0] = true;
                            c.acknowledge(r, AcknowledgeType.ACCEPT);
                            continue;
                        }
                        int i = indexOf(r.value());
                        deliveries.merge(i, 1, Integer::sum);
                        maxDeliveryCount[0] = Math.max(maxDeliveryCount[0], count2);
                        if (i % 10 == 0 && count2 == 1) {
                            released[0]++;
                            c.acknowledge(r, AcknowledgeType.RELEASE);
                        } else {
                            accepted.add(i);
                            c.acknowledge(r, AcknowledgeType.ACCEPT);
                        }
                    }
                    c.commitSync();
                };
                until("a first warmup record", () -> warm[0], () -> {
                    producer.send(new ProducerRecord<>(topic, 0, "warmup", "warmup"));
                    producer.flush();
                    pollAck.run();
                });
                produce(producer, topic, 0, count, 1);
                until("every record accepted", () -> accepted.size() == count, pollAck);
            }
            put("accepted", accepted.size());
            put("released", released[0]);
            put("delivered_twice", deliveries.values().stream().filter(n -> n == 2).count());
            put("delivered_more", deliveries.values().stream().filter(n -> n > 2).count());
            put("max_delivery_count", maxDeliveryCount[0]);
        }

        // -----------------------------------------------------------------------------------
        // admin_topics: create (validate-only, real, again), list, describe, configs, delete.

        void adminTopics() throws Exception {
            String prefix = opt("prefix", "admin");
            String a = prefix + "-a";
            String b = prefix + "-b";
            try (Admin admin = admin()) {
                admin.createTopics(List.of(new NewTopic(a, 3, (short) 1)), new CreateTopicsOptions().validateOnly(true)).all().get();
                put("listed_after_validate_only", topicsWith(admin, prefix));
                admin.createTopics(List.of(new NewTopic(a, 3, (short) 1),
                        new NewTopic(b, 1, (short) 1).configs(Map.of("cleanup.policy", "compact", "retention.ms", "123456")))).all().get();
                until("both topics described", () -> describable(admin, a) && describable(admin, b), () -> {});
                put("create_again", failure(() -> admin.createTopics(List.of(new NewTopic(a, 3, (short) 1))).all().get()));
                put("create_invalid", failure(() -> admin.createTopics(List.of(new NewTopic(prefix + "-c", 0, (short) 1))).all().get()));
                put("listed", topicsWith(admin, prefix));
                Map<String, TopicDescription> d = admin.describeTopics(List.of(a, b)).allTopicNames().get();
                for (String t : List.of(a, b)) {
                    TopicDescription td = d.get(t);
                    String key = t.equals(a) ? "a" : "b";
                    put(key + "_partitions", td.partitions().size());
                    put(key + "_replicas", td.partitions().stream().map(p -> p.partition() + ":" + p.replicas().size() + "/" + p.isr().size())
                            .collect(Collectors.joining(",")));
                    put(key + "_internal", td.isInternal());
                    put(key + "_has_id", td.topicId() != null && !td.topicId().toString().isEmpty());
                }
                put("a_id_matches", d.get(a).topicId().equals(admin.describeTopics(List.of(a)).allTopicNames().get().get(a).topicId()));
                Config config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, b))).all().get()
                        .get(new ConfigResource(ConfigResource.Type.TOPIC, b));
                put("b_cleanup_policy", config.get("cleanup.policy").value());
                put("b_retention_ms", config.get("retention.ms").value());
                put("describe_unknown", failure(() -> admin.describeTopics(List.of(prefix + "-none")).allTopicNames().get()));
                admin.deleteTopics(List.of(a)).all().get();
                until(a + " gone from the list", () -> !topicsWith(admin, prefix).contains(a), Scenario::pause);
                put("listed_after_delete", topicsWith(admin, prefix));
                put("delete_unknown", failure(() -> admin.deleteTopics(List.of(prefix + "-none")).all().get()));
                admin.deleteTopics(List.of(b)).all().get();
                until(b + " gone from the list", () -> !topicsWith(admin, prefix).contains(b), Scenario::pause);
                put("listed_at_end", topicsWith(admin, prefix));
            }
        }

        String topicsWith(Admin admin, String prefix) {
            try {
                return new TreeSet<>(admin.listTopics().names().get()).stream().filter(t -> t.startsWith(prefix + "-"))
                        .collect(Collectors.joining(","));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        interface Call {
            void run() throws Exception;
        }

        /** The exception's simple name, or "none". */
        static String failure(Call call) {
            try {
                call.run();
                return "none";
            } catch (Exception e) {
                return simpleName(e);
            }
        }

        // -----------------------------------------------------------------------------------
        // admin_partitions: add partitions to a topic; the new ones take records.

        void adminPartitions() throws Exception {
            String topic = opt("topic", "grow");
            try (Admin admin = admin(); KafkaProducer<String, String> producer = producer(Map.of())) {
                createTopic(admin, topic, 1);
                put("validate_only", failure(() -> admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3)),
                        new org.apache.kafka.clients.admin.CreatePartitionsOptions().validateOnly(true)).all().get()));
                put("after_validate_only", admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());
                admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
                until("3 partitions described", () -> {
                    try {
                        List<TopicPartitionInfo> ps = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
                        return ps.size() == 3 && ps.stream().allMatch(p -> p.leader() != null);
                    } catch (Exception e) {
                        return false;
                    }
                }, Scenario::pause);
                put("partitions", 3);
                put("shrink", failure(() -> admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get()));
                put("same", failure(() -> admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get()));
                put("unknown", failure(() -> admin.createPartitions(Map.of(topic + "-none", NewPartitions.increaseTo(3))).all().get()));
                // The producer learns of the new partitions from its metadata.
                until("the producer to see 3 partitions", () -> producer.partitionsFor(topic).size() == 3, Scenario::pause);
                produce(producer, topic, 0, 30, 3);
                try (KafkaConsumer<String, String> consumer = consumer(null, "reader", Map.of())) {
                    put("end_offsets", offsets(consumer.endOffsets(partitions(topic, 3))));
                }
                admin.deleteTopics(List.of(topic)).all().get();
            }
        }

        // -----------------------------------------------------------------------------------
        // admin_groups: list, describe, offsets (list, alter, delete) and deletion of a group.

        void adminGroups() throws Exception {
            String topic = opt("topic", "groups");
            String group = opt("group", topic + "-group");
            TopicPartition p0 = new TopicPartition(topic, 0);
            TopicPartition p1 = new TopicPartition(topic, 1);
            try (Admin admin = admin()) {
                createTopic(admin, topic, 2);
                try (KafkaProducer<String, String> producer = producer(Map.of())) {
                    produce(producer, topic, 0, 100, 2);
                }
                Seen seen = new Seen();
                try (KafkaConsumer<String, String> consumer = consumer(group, "member", Map.of())) {
                    consumer.subscribe(List.of(topic));
                    until("100 records", () -> seen.total == 100, () -> pollCommit(consumer, seen));
                    put("listed_live", listing(admin, group));
                    put("described_live", description(admin, group));
                    put("delete_live", failure(() -> admin.deleteConsumerGroups(List.of(group)).all().get()));
                    put("delete_offset_live", failure(() -> admin.deleteConsumerGroupOffsets(group, Set.of(p1)).all().get()));
                }
                put("listed_empty", listing(admin, group));
                put("described_empty", description(admin, group));
                put("offsets", offsets(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()));
                admin.alterConsumerGroupOffsets(group, Map.of(p0, new OffsetAndMetadata(10))).all().get();
                put("offsets_altered", offsets(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()));
                admin.deleteConsumerGroupOffsets(group, Set.of(p1)).all().get();
                put("offsets_after_delete", offsets(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()));
                admin.deleteConsumerGroups(List.of(group)).all().get();
                put("listed_deleted", listing(admin, group));
                put("described_deleted", failure(() -> {
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    if (d.groupState() != org.apache.kafka.common.GroupState.DEAD) throw new IllegalStateException(d.toString());
                    throw new IllegalStateException("DEAD");
                }));
                put("delete_again", failure(() -> admin.deleteConsumerGroups(List.of(group)).all().get()));
                put("offsets_deleted_group", offsets(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()));
                admin.deleteTopics(List.of(topic)).all().get();
            }
        }

        static String listing(Admin admin, String group) throws Exception {
            Collection<GroupListing> all = admin.listGroups().all().get();
            return all.stream().filter(g -> g.groupId().equals(group))
                    .map(g -> g.type().map(Object::toString).orElse("?") + "/" + g.protocol() + "/" + g.groupState().map(Object::toString).orElse("?"))
                    .collect(Collectors.joining(","));
        }

        static String description(Admin admin, String group) throws Exception {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            StringBuilder b = new StringBuilder();
            b.append(d.type()).append('/').append(d.groupState()).append('/').append(d.partitionAssignor()).append("/members:");
            for (MemberDescription m : d.members()) {
                b.append(m.clientId().replaceAll("-[^-]*$", "")).append(':').append(m.assignment().topicPartitions().size()).append(';');
            }
            return b.toString();
        }

        // -----------------------------------------------------------------------------------
        // transactions: a transactional copy (consume, produce, commit offsets in the
        // transaction), every third transaction aborted and redone; read back with
        // read_committed and read_uncommitted; a second producer with the same id fences the first.

        void transactions() throws Exception {
            String prefix = opt("prefix", "txn");
            String input = prefix + "-in";
            String output = prefix + "-out";
            String group = prefix + "-copier";
            int n = 1000;
            int partitions = 2;
            try (Admin admin = admin()) {
                createTopic(admin, input, partitions);
                createTopic(admin, output, partitions);
            }
            try (KafkaProducer<String, String> producer = producer(Map.of())) {
                produce(producer, input, 0, n, partitions);
            }
            Map<Integer, Integer> sentTo = new TreeMap<>(); // records written to each output partition, aborted ones too
            Map<Integer, Integer> txnsTouching = new TreeMap<>(); // transactions that wrote to each output partition
            int committed = 0;
            int aborted = 0;
            int abortedRecords = 0;
            int copied = 0;
            Map<String, Object> txnConfig = Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-copier-txn");
            KafkaProducer<String, String> producer = producer(txnConfig);
            try (KafkaConsumer<String, String> consumer = consumer(group, "copier",
                    Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100"))) {
                producer.initTransactions();
                consumer.subscribe(List.of(input));
                long deadline = System.nanoTime() + HANG_GUARD.toNanos();
                int chunk = 0;
                while (copied < n) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("copied " + copied + " of " + n + " within " + HANG_GUARD);
                    ConsumerRecords<String, String> records = consumer.poll(POLL);
                    if (records.isEmpty()) continue;
                    chunk++;
                    producer.beginTransaction();
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    Map<TopicPartition, Long> first = new HashMap<>();
                    Set<Integer> touched = new HashSet<>();
                    for (ConsumerRecord<String, String> r : records) {
                        producer.send(new ProducerRecord<>(output, r.partition(), r.key(), r.value()));
                        sentTo.merge(r.partition(), 1, Integer::sum);
                        touched.add(r.partition());
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        next.put(tp, new OffsetAndMetadata(r.offset() + 1));
                        first.putIfAbsent(tp, r.offset());
                    }
                    for (int p : touched) txnsTouching.merge(p, 1, Integer::sum);
                    producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
                    // Written before the end of the transaction, aborted ones too (an abort drops
                    // what the producer still holds).
                    producer.flush();
                    if (chunk % 3 == 0) {
                        producer.abortTransaction();
                        aborted++;
                        abortedRecords += records.count();
                        first.forEach(consumer::seek);
                    } else {
                        producer.commitTransaction();
                        committed++;
                        copied += records.count();
                    }
                }
                put("group_offsets", offsets(consumer.committed(partitions(input, partitions))));
            }
            put("copied", copied);
            put("some_committed", committed > 0);
            put("some_aborted", aborted > 0);
            log(committed + " transactions committed, " + aborted + " aborted (" + abortedRecords + " records)");
            // A second producer with the same transactional id fences the first.
            try (KafkaProducer<String, String> second = producer(txnConfig)) {
                second.initTransactions();
                String fencedBy = failure(() -> {
                    producer.beginTransaction();
                    producer.send(new ProducerRecord<>(output, 0, "fenced", payload(99999))).get();
                    producer.commitTransaction();
                });
                // Which exception depends on the transaction protocol the broker's features
                // allow: ProducerFencedException from AddPartitionsToTxn (KIP-98), or
                // InvalidProducerEpochException from the produce itself (KIP-890, Kafka 4's default).
                put("fenced", fencedBy.equals("ProducerFencedException") || fencedBy.equals("InvalidProducerEpochException"));
                put("info_fenced_by", fencedBy);
                second.beginTransaction();
                second.commitTransaction();
                put("second_empty_commit", "ok");
            } finally {
                producer.close(Duration.ZERO);
            }
            Seen readCommitted = readAll(output, partitions, "read_committed");
            Seen readUncommitted = readAll(output, partitions, "read_uncommitted");
            put("read_committed", readCommitted.total);
            put("read_committed_duplicates", readCommitted.duplicates());
            put("read_committed_missing", readCommitted.missing(n));
            put("read_committed_out_of_order", readCommitted.outOfOrder());
            put("read_uncommitted_is_all_sent", readUncommitted.total == n + abortedRecords);
            put("read_uncommitted_missing", readUncommitted.missing(n));
            try (KafkaConsumer<String, String> c = consumer(null, "ends", Map.of())) {
                Map<TopicPartition, Long> ends = c.endOffsets(partitions(output, partitions));
                // One control marker per transaction and partition: records sent + transactions touching it.
                boolean markers = true;
                for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
                    int p = e.getKey().partition();
                    markers &= e.getValue() == sentTo.getOrDefault(p, 0) + txnsTouching.getOrDefault(p, 0);
                }
                put("end_offsets_count_markers", markers);
                log("output end offsets " + offsets(ends) + ", sent " + sentTo + ", transactions " + txnsTouching);
            }
        }

        /** Reads a topic from the start to its end (the last stable offset with read_committed). */
        Seen readAll(String topic, int partitions, String isolation) {
            Seen seen = new Seen();
            try (KafkaConsumer<String, String> c = consumer(null, "reader", Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
                Set<TopicPartition> tps = partitions(topic, partitions);
                c.assign(tps);
                c.seekToBeginning(tps);
                Map<TopicPartition, Long> ends = c.endOffsets(tps);
                until(isolation + " read to the end", () -> tps.stream().allMatch(tp -> c.position(tp) >= ends.get(tp)),
                        () -> seen.add(c.poll(POLL)));
            }
            return seen;
        }

        // -----------------------------------------------------------------------------------
        // auth: with the given security settings, admin, producer and a consumer group work;
        // with a wrong password (SASL) or no trusted certificate (TLS), the admin client fails.

        void auth() throws Exception {
            String topic = opt("topic", "auth");
            try (Admin admin = admin()) {
                createTopic(admin, topic, 2);
            }
            try (KafkaProducer<String, String> producer = producer(Map.of())) {
                produce(producer, topic, 0, 200, 2);
            }
            Seen seen = new Seen();
            try (KafkaConsumer<String, String> consumer = consumer(topic + "-group", "reader", Map.of())) {
                consumer.subscribe(List.of(topic));
                until("200 records", () -> seen.total >= 200, () -> pollCommit(consumer, seen));
                put("committed", offsets(consumer.committed(partitions(topic, 2))));
            }
            put("consumed", seen.total);
            put("duplicates", seen.duplicates());
            String security = opt("security", "PLAINTEXT");
            if (security.startsWith("SASL")) {
                opts.put("password", opt("password", "") + "-wrong");
            } else if (security.endsWith("SSL")) {
                opts.put("trust", opt("other_trust", ""));
            }
            try (Admin wrong = admin()) {
                put("wrong_credentials", failure(() -> wrong.listTopics().names().get()));
            }
        }
    }
}
