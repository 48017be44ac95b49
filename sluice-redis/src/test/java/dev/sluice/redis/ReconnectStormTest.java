package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * 50 clients across a Redis restart: their reconnection attempts are spread over time, not made
 * in lockstep, and each ends with one connection. The clients are Lettuce clients with the
 * options and the reconnect delay Sluice gives the clients it makes ({@link
 * Connector#reconnectDelay()}, {@link RedisStore#clientOptions()}), each under its own store and
 * limiter, sharing one set of client resources (threads). A {@link ChaosProxy} in front of the
 * server timestamps every connection attempt; while Redis is down it closes each one at once.
 *
 * <p>The figures: no 100 ms window holds more than a fifth of the attempts made from the
 * disconnection until every client is back, and no 100 ms window after Redis is back holds more
 * than three fifths of the clients' reconnections (the herd the restarted server sees). Without
 * jitter (the old exponential 1 to 100 ms, the same for every client) the first figure was 10%
 * but the second was all 50 clients; the delay's own test fails on that mutation. A simulation
 * of 4,000 runs of this shape with the delay of {@link Connector#reconnectDelay()} (full jitter,
 * 100 ms doubling to 1 s) gave at most 17% and 23 clients.
 */
class ReconnectStormTest {

  static final int CLIENTS = 50;
  static final Duration OUTAGE = Duration.ofSeconds(3);
  static final long WINDOW = Duration.ofMillis(100).toNanos();

  private RedisServer server;
  private ChaosProxy proxy;
  private ClientResources resources;
  private final List<RedisClient> clients = new ArrayList<>();
  private final List<RedisStore.Factory> factories = new ArrayList<>();
  private final List<RateLimiter<String>> limiters = new ArrayList<>();

  @AfterEach
  void stop() {
    limiters.forEach(RateLimiter::close);
    factories.forEach(RedisStore.Factory::close);
    for (RedisClient c : clients) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
    if (resources != null) {
      resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
    if (server != null) {
      server.kill();
    }
  }

  @Test
  void restart_fiftyClients_attemptsSpreadAndOneConnectionEach() {
    assumeTrue(RedisServer.canStart(), "needs a redis-server it can restart");
    server = RedisServer.start();
    proxy = ChaosProxy.to(server.uri());
    resources = ClientResources.builder().reconnectDelay(Connector.reconnectDelay()).build();
    String name = SharedRedis.uniqueName("storm");
    for (int i = 0; i < CLIENTS; i++) {
      RedisClient c = RedisClient.create(resources, proxy.uri());
      c.setOptions(RedisStore.clientOptions());
      clients.add(c);
      RedisStore.Factory f = RedisStore.factory(c);
      factories.add(f);
      limiters.add(RateLimiter.builder(Limit.perSecond(1_000)).name(name).store(f)
          .failureMode(FailureMode.CLOSED).build());
    }
    awaitAllDecidedByRedis();

    int before = proxy.accepts().size();
    int servedBefore = proxy.served().size();
    long down = System.nanoTime();
    proxy.refuse(true);
    server.kill();
    proxy.dropAll();
    LockSupport.parkNanos(OUTAGE.toNanos());
    server.launch();
    proxy.refuse(false);
    awaitAllDecidedByRedis();
    long back = System.nanoTime();

    List<Long> attempts = proxy.accepts().subList(before, proxy.accepts().size());
    long[] t = attempts.stream().mapToLong(Long::longValue).sorted().toArray();
    int worst = 0;
    long worstAt = 0;
    for (int i = 0, j = 0; i < t.length; i++) {
      while (t[i] - t[j] >= WINDOW) {
        j++;
      }
      if (i - j + 1 > worst) {
        worst = i - j + 1;
        worstAt = t[j] - down;
      }
    }
    // the first attempt of each client after the server was back: its reconnection
    List<Long> after = proxy.served().subList(servedBefore, proxy.served().size());
    int herd = busiest(after.stream().mapToLong(Long::longValue).toArray());
    // A client's connection that failed over the restart may still be closing on the server's
    // side when the last client is back (51 seen once on a loaded machine): wait, bounded, for
    // the count to settle; a leaked connection stays, and fails the assertion below.
    long connected = connectedClients();
    for (long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        connected != CLIENTS && System.nanoTime() < until; connected = connectedClients()) {
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
    }
    System.out.printf("STORM %d clients, %d attempts in %.0f ms (outage %d ms): at most %d"
            + " (%.1f%%) in a 100 ms window, the worst starting %.0f ms after the disconnection;"
            + " %d connections after, %d of them in the busiest 100 ms after the restart%n",
        CLIENTS, t.length, (back - down) / 1e6, OUTAGE.toMillis(), worst, 100.0 * worst / t.length,
        worstAt / 1e6, connected, herd);
    assertThat(t.length).as("every client tried again").isGreaterThanOrEqualTo(CLIENTS);
    assertThat(worst).as("attempts in the busiest 100 ms of %d", t.length)
        .isLessThanOrEqualTo(t.length / 5);
    assertThat(connected).as("connections once all are back").isEqualTo(CLIENTS);
    assertThat(after).as("attempts after the restart").hasSize(CLIENTS);
    assertThat(herd).as("reconnections in the busiest 100 ms after the restart")
        .isLessThanOrEqualTo(CLIENTS * 3 / 5);
  }

  /**
   * The delay itself: each wait is drawn afresh within the exponential step (full jitter, from
   * 0), so clients do not share their instants. 2,000 draws per attempt; the bounds on the spread
   * fail with a probability below 10^-40 for a uniform draw, and always for a fixed delay.
   */
  @Test
  void reconnectDelay_uniformFromZeroToTheExponentialStepCappedAtOneSecond() {
    long base = Connector.RECONNECT_BASE.toNanos();
    long cap = Connector.RECONNECT_CAP.toNanos();
    assertThat(cap).isEqualTo(Duration.ofSeconds(1).toNanos());
    for (int attempt = 1; attempt <= 12; attempt++) {
      long step = Math.min(cap, base << Math.min(attempt - 1, 20));
      long min = Long.MAX_VALUE;
      long max = 0;
      for (int i = 0; i < 2_000; i++) {
        long d = Connector.reconnectDelay().createDelay(attempt).toNanos();
        assertThat(d).isBetween(0L, step);
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
      assertThat(min).as("attempt %d: smallest of 2,000 waits", attempt).isLessThan(step / 20);
      assertThat(max).as("attempt %d: largest of 2,000 waits", attempt).isGreaterThan(step - step / 20);
    }
  }

  /** The most instants of {@code t} (sorted) in one window of {@link #WINDOW}. */
  private static int busiest(long[] t) {
    int best = 0;
    for (int i = 0, j = 0; i < t.length; i++) {
      while (t[i] - t[j] >= WINDOW) {
        j++;
      }
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  private void awaitAllDecidedByRedis() {
    for (RateLimiter<String> l : limiters) {
      Await.until(Duration.ofSeconds(20), 2_000,
          () -> l.decide("k", 1).source() == Decision.Source.STORE, "a decision by Redis");
    }
  }

  /** Clients connected to the server, less the one asking. */
  private long connectedClients() {
    RedisClient admin = RedisClient.create(server.uri());
    try (StatefulRedisConnection<String, String> c = admin.connect()) {
      String info = c.sync().info("clients");
      for (String line : info.split("\r?\n")) {
        if (line.startsWith("connected_clients:")) {
          return Long.parseLong(line.substring("connected_clients:".length()).trim()) - 1;
        }
      }
      throw new AssertionError("no connected_clients in " + info);
    } finally {
      admin.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }
}
