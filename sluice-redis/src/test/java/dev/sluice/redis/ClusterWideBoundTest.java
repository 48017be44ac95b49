package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * "N per second" holds across nodes: limiters in this JVM with tickers skewed by -10 s, 0 and
 * +10 s, and two more JVMs (skewed +10 s and -10 s), all hammer one key through Redis for a few
 * seconds (20 s with {@code -Predis-long}). Redis's clock, read before the start signal and after
 * everyone stopped, bounds what they may admit together: at most {@code C + elapsed * rate}, and
 * (the bucket kept drained) at least {@code elapsed * rate - C - 1}. The tickers do not matter.
 */
class ClusterWideBoundTest {

  static final boolean LONG = Boolean.getBoolean("sluice.redis.long");
  static final long PERMITS = 400;
  static final long PERIOD_MS = 1_000;
  static final long CAPACITY = 100;
  static final long TEN_SECONDS = 10_000_000_000L;

  @ParameterizedTest
  @ValueSource(strings = {"standalone", "cluster"})
  void hammer_manyNodesSkewedClocks_admittedWithinBoundsByRedisClock(String topology)
      throws Exception {
    assumeTrue(topology.equals("standalone") || LONG, "the Cluster run is in -Predis-long");
    String uri = topology.equals("cluster") ? SharedRedis.clusterUri() : SharedRedis.uri();
    String timeUri = topology.equals("cluster")
        ? "redis://127.0.0.1:" + SharedRedis.clusterPorts().get(0) : SharedRedis.uri();
    Duration run = LONG ? Duration.ofSeconds(20) : Duration.ofSeconds(3);
    String name = SharedRedis.uniqueName("bound");
    String key = "the-key";
    Limit limit = Limit.of(PERMITS, Duration.ofMillis(PERIOD_MS)).withCapacity(CAPACITY);

    List<Process> children = new ArrayList<>();
    List<BufferedReader> outputs = new ArrayList<>();
    List<RedisStore.Factory> factories = new ArrayList<>();
    List<RateLimiter<String>> limiters = new ArrayList<>();
    RedisClient timeClient = RedisClient.create(timeUri);
    try (StatefulRedisConnection<String, String> time = timeClient.connect()) {
      for (long skew : new long[] {TEN_SECONDS, -TEN_SECONDS}) {
        Process p = new ProcessBuilder(javaBinary(), "-Xmx256m", "-cp", testClassPath(),
            BoundNode.class.getName(), uri, name, key, Long.toString(PERMITS),
            Long.toString(PERIOD_MS), Long.toString(CAPACITY), Long.toString(skew), "2")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        children.add(p);
        outputs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
      }
      for (long skew : new long[] {-TEN_SECONDS, 0, TEN_SECONDS}) {
        RedisStore.Factory f = RedisStore.factory(uri).deadline(Duration.ofMillis(500));
        factories.add(f);
        RateLimiter<String> limiter = RateLimiter.builder(limit).name(name).store(f)
            .ticker(() -> System.nanoTime() + skew).failureMode(FailureMode.CLOSED).build();
        limiter.decide("warm-up", 1);
        limiters.add(limiter);
      }
      for (BufferedReader out : outputs) {
        assertThat(readLine(out, Duration.ofSeconds(60))).isEqualTo("READY");
      }

      long t0 = micros(time.sync().time());
      for (Process p : children) {
        send(p, "GO");
      }
      List<BoundNode.Hammer> hammers = new ArrayList<>();
      for (RateLimiter<String> limiter : limiters.subList(1, limiters.size())) {
        BoundNode.Hammer h = new BoundNode.Hammer(limiter, key, 1);
        hammers.add(h);
        h.start();
      }
      // this thread is the last node: it hammers for the duration of the run, then, while the
      // other in-process nodes keep the bucket drained, the children stop and report
      long[] here = new long[2];
      long end = System.nanoTime() + run.toNanos();
      while (System.nanoTime() - end < 0) {
        Decision d = limiters.get(0).decide(key, 1);
        if (d.source() != Decision.Source.STORE) {
          here[1]++;
        } else if (d.allowed()) {
          here[0]++;
        }
      }
      for (Process p : children) {
        send(p, "STOP");
      }
      long total = here[0];
      long failed = here[1];
      StringBuilder perChild = new StringBuilder();
      for (BufferedReader out : outputs) {
        String line = readLine(out, Duration.ofSeconds(30));
        assertThat(line).startsWith("ADMITTED ");
        String[] parts = line.split(" ");
        total += Long.parseLong(parts[1]);
        failed += Long.parseLong(parts[3]);
        perChild.append(' ').append(line);
      }
      for (BoundNode.Hammer h : hammers) {
        h.stop();
        total += h.admitted.get();
        failed += h.failed.get();
      }
      long t1 = micros(time.sync().time());
      for (Process p : children) {
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }

      long elapsed = t1 - t0;
      double earned = (double) elapsed * PERMITS / (PERIOD_MS * 1_000);
      long upper = CAPACITY + (long) Math.floor(earned);
      System.out.printf("BOUND %s: %.3f s by Redis's clock, admitted %d (bounds %d..%d),"
              + " failed %d, children:%s%n", topology, elapsed / 1e6, total,
          (long) Math.ceil(earned - CAPACITY - 1), upper, failed, perChild);
      assertThat(total).isLessThanOrEqualTo(upper);
      assertThat((double) total).isGreaterThanOrEqualTo(earned - CAPACITY - 1);
    } finally {
      for (Process p : children) {
        p.destroyForcibly();
      }
      for (RateLimiter<String> l : limiters) {
        l.close();
      }
      for (RedisStore.Factory f : factories) {
        f.close();
      }
      timeClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  private static long micros(List<String> time) {
    return Long.parseLong(time.get(0)) * 1_000_000L + Long.parseLong(time.get(1));
  }

  private static void send(Process p, String line) throws Exception {
    OutputStream os = p.getOutputStream();
    Writer w = new java.io.OutputStreamWriter(os, StandardCharsets.UTF_8);
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

  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The test class path (Surefire passes it in a property when it uses a manifest jar). */
  static String testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }
}
