package io.unidist.internal.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.unidist.Serializers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proves that registered (non-built-in) classes encode and decode correctly from many threads
 * at once, which needs one Kryo instance per concurrent call: a Kryo instance keeps per-call
 * state (the generic-type stack of nested fields, the nesting depth), so threads sharing one
 * interleave it and write or read wrong bytes. Checked by making {@link Registry} hand every
 * thread the same instance (not committed): this test then fails.
 */
class ValueCodecConcurrencyTest {
    /** Nested registered classes with generic fields, so that Kryo's per-call state is used. */
    static final class Order {
        String customer;
        List<Line> lines = new ArrayList<>();
        Map<String, Long> totals = new LinkedHashMap<>();

        @Override
        public boolean equals(Object o) {
            return o instanceof Order other && other.customer.equals(customer) && other.lines.equals(lines)
                    && other.totals.equals(totals);
        }

        @Override
        public int hashCode() {
            return Objects.hash(customer, lines, totals);
        }

        @Override
        public String toString() {
            return "Order[" + customer + ", " + lines.size() + " lines, " + totals + "]";
        }
    }

    static final class Line {
        String sku;
        int quantity;
        List<String> notes = new ArrayList<>();

        @Override
        public boolean equals(Object o) {
            return o instanceof Line other && other.sku.equals(sku) && other.quantity == quantity && other.notes.equals(notes);
        }

        @Override
        public int hashCode() {
            return Objects.hash(sku, quantity, notes);
        }
    }

    @BeforeAll
    static void register() {
        Serializers.register(Order.class, 700);
        Serializers.register(Line.class, 701);
    }

    @Test
    void registeredClassesRoundTripFromManyThreadsAtOnce() throws Exception {
        int threads = 8;
        int each = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        Order order = order(thread, i);
                        byte[] bytes = ValueCodec.encode(order, Object.class, "order");
                        assertEquals(order, ValueCodec.decode(bytes, Order.class, "order"), "thread " + thread + ", order " + i);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sizes vary with the thread and the index, so that concurrent calls nest differently. */
    private static Order order(int thread, int i) {
        Order order = new Order();
        order.customer = "customer-" + thread + "-" + i;
        for (int l = 0; l < 1 + (i + thread) % 5; l++) {
            Line line = new Line();
            line.sku = "sku-" + l;
            line.quantity = i * 10 + l;
            for (int n = 0; n < (l + thread) % 3; n++) {
                line.notes.add("note-" + n);
            }
            order.lines.add(line);
        }
        order.totals.put("thread-" + thread, (long) i);
        return order;
    }
}
