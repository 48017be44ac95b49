package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Limit;
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
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * "N per second" holds across nodes: limiters in this JVM with tickers skewed by -10 s, 0 and
 * +10 s, and two more JVMs (skewed +10 s and -10 s, 2 threads each), all hammer one key through
 * Redis for 3 s; with {@code -Predis-long}, four child JVMs instead (±10 s, ±5 s) of 8 threads
 * each, for 60 s, on standalone Redis and on a 3-master Cluster. Every node starts only once Redis has decided one of
 * its requests. Redis's clock, read before the start signal and after everyone stopped, bounds
 * what they may admit together; the tickers do not matter.
 *
 * <p>The bounds are what the store guarantees, whatever the machine's load. At most
 * {@code C + floor(elapsed * rate)}: never over-admit. At least {@code C + elapsed * rate}, less
 * the refill that may have been wasted on a full bucket (at most {@code rate} times the time for
 * which no node of this JVM can vouch, from its decisions, that the bucket was not full), less
 * what the bucket may hold at the end (by the last decisions of this JVM's nodes; see
 * {@link Coverage}), less the calls that missed their deadline or failed after being sent (they
 * may have taken permits unreported), less 1 (the two clocks): time in which the nodes could not
 * ask is accounted for rather than assumed away. Every node must have been decided for by Redis
 * during the run, and at least 99% of each node's calls; the failure message reports each node's
 * share.
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
    Duration run = LONG ? Duration.ofSeconds(60) : Duration.ofSeconds(3);
    // -Predis-long: four child JVMs of 8 threads each; the default build: two of 2
    long[] childSkews = LONG ? new long[] {TEN_SECONDS, -TEN_SECONDS, TEN_SECONDS / 2,
        -TEN_SECONDS / 2} : new long[] {TEN_SECONDS, -TEN_SECONDS};
    String childThreads = LONG ? "8" : "2";
    String name = SharedRedis.uniqueName("bound");
    String key = "the-key";
    Limit limit = Limit.of(PERMITS, Duration.ofMillis(PERIOD_MS)).withCapacity(CAPACITY);

    List<Process> children = new ArrayList<>();
    List<BufferedReader> outputs = new ArrayList<>();
    List<String> childNames = new ArrayList<>();
    List<BoundNode.Node> nodes = new ArrayList<>();
    RedisClient timeClient = RedisClient.create(timeUri);
    try (StatefulRedisConnection<String, String> time = timeClient.connect()) {
      for (long skew : childSkews) {
        Process p = new ProcessBuilder(javaBinary(), "-Xmx256m", "-cp", testClassPath(),
            BoundNode.class.getName(), uri, name, key, Long.toString(PERMITS),
            Long.toString(PERIOD_MS), Long.toString(CAPACITY), Long.toString(skew), childThreads)
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        children.add(p);
        outputs.add(new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        childNames.add("child" + (skew > 0 ? "+" : "-") + Math.abs(skew) / 1_000_000_000L + "s");
      }
      for (long skew : new long[] {-TEN_SECONDS, 0, TEN_SECONDS}) {
        BoundNode.Node node = new BoundNode.Node(uri, name, limit, skew);
        nodes.add(node);
        assertThat(node.awaitReady()).as("this JVM's node skewed %d ns: last failure", skew)
            .isNull();
      }
      for (int c = 0; c < outputs.size(); c++) {
        assertThat(readLine(outputs.get(c), BoundNode.READY_WITHIN.plusSeconds(30)))
            .as(childNames.get(c)).isEqualTo("READY");
      }

      long runStart = System.nanoTime();
      long t0 = micros(time.sync().time());
      for (Process p : children) {
        send(p, "GO");
      }
      List<BoundNode.Hammer> hammers = new ArrayList<>();
      for (BoundNode.Node node : nodes) {
        BoundNode.Hammer h = new BoundNode.Hammer(node, key, 1);
        hammers.add(h);
        h.start(runStart);
      }
      long end = runStart + run.toNanos();
      while (System.nanoTime() - end < 0) {
        LockSupport.parkNanos(end - System.nanoTime());
      }
      // the children stop and report while the nodes of this JVM keep the bucket drained
      for (Process p : children) {
        send(p, "STOP");
      }
      List<Share> shares = new ArrayList<>();
      for (int c = 0; c < outputs.size(); c++) {
        String line = readLine(outputs.get(c), Duration.ofSeconds(30));
        assertThat(line).as(childNames.get(c)).startsWith("ADMITTED ");
        shares.add(Share.parse(childNames.get(c), line));
      }
      for (int h = 0; h < hammers.size(); h++) {
        hammers.get(h).stop();
        shares.add(Share.parse("here" + new String[] {"-10s", "+0s", "+10s"}[h],
            hammers.get(h).report()));
      }
      long t1 = micros(time.sync().time());
      long runEnd = System.nanoTime();
      for (Process p : children) {
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }

      List<Coverage> coverage = new ArrayList<>();
      for (BoundNode.Hammer h : hammers) {
        coverage.addAll(h.coverage());
      }
      long blindNanos = Coverage.uncovered(coverage, runEnd - runStart);
      double held = Coverage.heldAtMost(coverage, runEnd - runStart);
      long total = shares.stream().mapToLong(Share::admitted).sum();
      long ambiguous = shares.stream().mapToLong(Share::ambiguous).sum();
      long elapsed = t1 - t0;
      double earned = (double) elapsed * PERMITS / (PERIOD_MS * 1_000);
      long upper = CAPACITY + (long) Math.floor(earned);
      double wasted = (double) blindNanos * PERMITS / (PERIOD_MS * 1_000_000);
      double lower = CAPACITY + earned - wasted - held - ambiguous - 1;
      String report = String.format("BOUND %s: %.3f s by Redis's clock, admitted %d (bounds %d..%d:"
              + " %d + %.1f earned, less %.1f wasted in %.1f ms for which no node of this JVM"
              + " vouched, less %.1f left at the end, less %d ambiguous calls, less 1), shares:%s",
          topology, elapsed / 1e6, total, (long) Math.ceil(lower), upper, CAPACITY, earned, wasted,
          blindNanos / 1e6, held, ambiguous, shares);
      System.out.println(report);
      for (Share s : shares) {
        assertThat(s.decided()).as("%s was never decided for by Redis: %s", s.node(), report)
            .isPositive();
        // each node's calls succeed (its deadline is 2 s): a node that failed most of its calls
        // would leave the bound proved by the others alone
        assertThat(s.failed() * 100).as("%s: failed calls, at most 1%%: %s", s.node(), report)
            .isLessThanOrEqualTo(s.calls());
      }
      assertThat(total).as(report).isLessThanOrEqualTo(upper);
      assertThat((double) total).as(report).isGreaterThanOrEqualTo(lower);
    } finally {
      for (Process p : children) {
        p.destroyForcibly();
      }
      for (BoundNode.Node node : nodes) {
        node.close();
      }
      timeClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  /** One node's part, from its {@link BoundNode.Hammer#report()}. */
  record Share(String node, long admitted, long decided, long failed, long calls, long ambiguous) {
    static Share parse(String node, String report) {
      String[] p = report.split(" ");
      return new Share(node, Long.parseLong(p[1]), Long.parseLong(p[3]), Long.parseLong(p[5]),
          Long.parseLong(p[7]), Long.parseLong(p[9]));
    }

    @Override
    public String toString() {
      return " " + node + "[admitted " + admitted + ", decided " + decided + ", failed " + failed
          + ", calls " + calls + ", ambiguous " + ambiguous + "]";
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
