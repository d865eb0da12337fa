// Prints the protocol error table of the kafka-clients jar on the classpath, as `errors.tsv`:
// a header line, then `code<TAB>NAME<TAB>retriable` for every constant of Kafka's `Errors` enum,
// in declaration order. "Retriable" is Kafka's own rule: the error's exception is a
// `RetriableException`. Run by `cargo xtask schemas fetch` (java -cp JARS ErrorsTable.java);
// names the jar the enum came from on standard error.
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class ErrorsTable {
    public static void main(String[] args) {
        System.err.println("Errors loaded from " + Errors.class.getProtectionDomain().getCodeSource().getLocation());
        StringBuilder out = new StringBuilder("code\tname\tretriable\n");
        for (Errors e : Errors.values()) {
            boolean retriable = e.exception() instanceof RetriableException;
            out.append(e.code()).append('\t').append(e.name()).append('\t').append(retriable).append('\n');
        }
        System.out.print(out);
    }
}
