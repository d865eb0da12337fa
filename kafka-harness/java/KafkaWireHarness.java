// One Kafka node of kafka-wire-harness: formats the node's storage with Kafka's StorageTool
// (when given format arguments), then runs Kafka's broker (kafka.Kafka) in the same JVM.
//
// The JVM halts as soon as its standard input closes: the test process that started it holds
// the other end of that pipe, so no broker outlives its test, however the test ends.
//
// Arguments: <StorageTool arguments...> --start <kafka.Kafka arguments...>
// Classes are looked up by name so that this file compiles without Kafka on the classpath.

import java.io.PrintStream;
import java.util.Arrays;

public final class KafkaWireHarness {
    public static void main(String[] args) throws Throwable {
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // The harness never writes; keep reading until the pipe closes.
                }
            } catch (Throwable e) {
                // A broken pipe means the same: the test process is gone.
            }
            Runtime.getRuntime().halt(137);
        }, "kafka-wire-harness-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        int split = Arrays.asList(args).indexOf("--start");
        if (split < 0) {
            System.out.println("kafka-wire-harness: usage: <format arguments> --start <broker arguments>");
            Runtime.getRuntime().halt(2);
        }
        String[] format = Arrays.copyOfRange(args, 0, split);
        String[] start = Arrays.copyOfRange(args, split + 1, args.length);
        if (format.length > 0) {
            int code = (Integer) Class.forName("kafka.tools.StorageTool")
                .getMethod("execute", String[].class, PrintStream.class)
                .invoke(null, format, System.out);
            if (code != 0) {
                System.out.println("kafka-wire-harness: StorageTool format failed with exit code " + code);
                System.out.flush();
                Runtime.getRuntime().halt(3);
            }
            System.out.println("kafka-wire-harness: storage formatted");
        }
        Class.forName("kafka.Kafka").getMethod("main", String[].class).invoke(null, (Object) start);
    }
}
