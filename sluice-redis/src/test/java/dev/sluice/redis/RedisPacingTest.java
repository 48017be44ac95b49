package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Two JVMs pace one key through Redis: each runs {@link PacingNode} with 8 threads calling
 * {@code acquire(key, 1, 30 s)} on a 50/s policy of capacity 1, for about 11 s. Both start, both
 * report ready (Redis has reserved for each), and only then does the run begin, so JVM start-up
 * takes nothing from it.
 *
 * <p>What is asserted, by Redis's clock (µs since 2025-01-01, as the script reads it):
 * <ul>
 *   <li>the due instants {@code D} of all permits of both JVMs, sorted, are at least 20 ms
 *       (one interval) apart: capacity 1 at 50/s never lets two permits closer;</li>
 *   <li>the window is {@code [W0, W0 + 10 s)}, {@code W0} the first due instant at least 0.5 s
 *       after the start signal, and the run went on past its end; the permits due in it number
 *       495 to 505 (50/s ± 1 %). The upper end holds by the spacing above (at most 500 instants
 *       20 ms apart fit in a half-open 10 s window that begins at one); the count is exactly 500
 *       while the queue of reservations never runs empty, and with 16 threads each holding one it
 *       runs empty only if all of them stall together for more than about 300 ms; the idle time
 *       (spacing beyond 20 ms) is reported;</li>
 *   <li>each JVM has at least 10 % of them (it was part of the fleet, not a bystander);</li>
 *   <li>no {@code acquire} returned before its permit was due: Redis's {@code TIME}, read right
 *       after it returned, is at least {@code D}. The clock margin of {@code docs/waiting.md} is
 *       zero on one host: the node waits on its monotonic clock from the reply, which Linux slews
 *       with the wall clock {@code TIME} reads, and {@code TIME}'s truncation to the microsecond
 *       only makes {@code D} earlier (only a step of the wall clock during the run could break
 *       it);</li>
 *   <li>no acquire was refused or failed.</li>
 * </ul>
 * The figures are printed on a {@code PACING} line.
 */
class RedisPacingTest {

  static final int THREADS_PER_JVM = 8;
  static final long INTERVAL_MICROS = 20_000;
  static final long WINDOW_MICROS = 10_000_000;
  static final long SETTLE_MICROS = 500_000;

  @Test
  void acquire_twoJvmsOneKeyFiftyPerSecond_fiftyPerSecondTogetherNoneEarlyByRedisClock()
      throws Exception {
    String uri = SharedRedis.uri();
    String name = SharedRedis.uniqueName("pacing");
    String key = "outbound";
    List<Process> children = new ArrayList<>();
    List<BufferedReader> outputs = new ArrayList<>();
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> time = client.connect()) {
      for (int c = 0; c < 2; c++) {
        Process p = new ProcessBuilder(ClusterWideBoundTest.javaBinary(), "-Xmx128m", "-cp",
            ClusterWideBoundTest.testClassPath(), PacingNode.class.getName(), uri, name, key,
            Integer.toString(THREADS_PER_JVM))
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        children.add(p);
        outputs.add(new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
      }
      for (int c = 0; c < 2; c++) {
        assertThat(readLine(outputs.get(c), Duration.ofSeconds(120))).as("child %d", c)
            .isEqualTo("READY");
      }
      long start = PacingNode.micros(time.sync().time());
      for (Process p : children) {
        send(p, "GO");
      }
      // until Redis's clock is past any window the run can have (W0 is 0.5 s after the start
      // unless the queue ran empty then): bounded by a minute of this JVM's clock
      long stopAt = start + SETTLE_MICROS + WINDOW_MICROS + 1_000_000;
      long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      while (PacingNode.micros(time.sync().time()) < stopAt && System.nanoTime() - giveUp < 0) {
        LockSupport.parkNanos(50_000_000L);
      }
      for (Process p : children) {
        send(p, "STOP");
      }

      List<long[]> permits = new ArrayList<>(); // D, wait, returned, child
      long refused = 0;
      for (int c = 0; c < 2; c++) {
        for (;;) {
          String line = readLine(outputs.get(c), Duration.ofSeconds(60));
          assertThat(line).as("child %d output", c).isNotNull();
          String[] f = line.split(" ");
          if (f[0].equals("END")) {
            refused += Long.parseLong(f[2]);
            break;
          }
          assertThat(f[0]).as("child %d: %s", c, line).isEqualTo("PERMIT");
          permits.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]),
              Long.parseLong(f[3]), c});
        }
        assertThat(children.get(c).waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      permits.sort((a, b) -> Long.compare(a[0], b[0]));

      long minSpacing = Long.MAX_VALUE;
      long idle = 0; // time in which the bucket served nobody: spacing beyond one interval
      for (int i = 1; i < permits.size(); i++) {
        long spacing = permits.get(i)[0] - permits.get(i - 1)[0];
        minSpacing = Math.min(minSpacing, spacing);
      }
      long w0 = permits.stream().mapToLong(p -> p[0]).filter(d -> d >= start + SETTLE_MICROS)
          .min().orElseThrow();
      long w1 = w0 + WINDOW_MICROS;
      long lastDue = permits.get(permits.size() - 1)[0];
      long[] perChild = new long[2];
      long inWindow = 0;
      long early = 0;
      long[] lateness = new long[permits.size()];
      long prev = -1;
      for (int i = 0; i < permits.size(); i++) {
        long[] p = permits.get(i);
        if (p[2] < p[0]) {
          early++;
        }
        lateness[i] = p[2] - p[0];
        if (p[0] >= w0 && p[0] < w1) {
          inWindow++;
          perChild[(int) p[3]]++;
          if (prev >= 0) {
            idle += Math.max(0, p[0] - prev - INTERVAL_MICROS);
          }
          prev = p[0];
        }
      }
      Arrays.sort(lateness);
      String report = String.format("PACING two JVMs x %d threads, 50/s, capacity 1: %d permits due"
              + " in [W0, W0 + 10 s) by Redis's clock (%.1f/s; child 0: %d, child 1: %d), W0 %.3f s"
              + " after the start, last due %.3f s after; %d permits in all, spacing at least %d µs,"
              + " idle %.1f ms in the window; returned after due by Redis's TIME: min %d µs, p50 %d"
              + " µs, p99 %d µs, max %d µs; early %d, refused %d",
          THREADS_PER_JVM, inWindow, inWindow / (WINDOW_MICROS / 1e6), perChild[0], perChild[1],
          (w0 - start) / 1e6, (lastDue - start) / 1e6, permits.size(), minSpacing, idle / 1e3,
          lateness[0], lateness[lateness.length / 2], lateness[(int) (lateness.length * 0.99)],
          lateness[lateness.length - 1], early, refused);
      System.out.println(report);

      assertThat(refused).as(report).isZero();
      assertThat(minSpacing).as(report).isGreaterThanOrEqualTo(INTERVAL_MICROS);
      assertThat(lastDue).as("the run covered the window: %s", report).isGreaterThanOrEqualTo(w1);
      assertThat(inWindow).as(report).isBetween(495L, 505L);
      assertThat(perChild[0] * 10).as(report).isGreaterThanOrEqualTo(inWindow);
      assertThat(perChild[1] * 10).as(report).isGreaterThanOrEqualTo(inWindow);
      assertThat(early).as(report).isZero();
    } finally {
      for (Process p : children) {
        p.destroyForcibly();
      }
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  private static void send(Process p, String line) throws Exception {
    Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
    w.write(line + "\n");
    w.flush();
  }

  private static String readLine(BufferedReader in, Duration timeout) throws Exception {
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return in.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
