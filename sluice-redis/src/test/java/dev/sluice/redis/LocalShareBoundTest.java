package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code LOCAL} keeps the fleet's bound: three limiters (each its own connection, so three nodes
 * to Redis) on one real Redis, 40/s with bursts of 20, learn {@code N = 3} from their heartbeats;
 * then Redis is killed, paused ({@code CLIENT PAUSE}) or slowed past the 50 ms deadline (a
 * {@link ChaosProxy} holding every command 300 ms), and each node hammers the key for 2 s.
 *
 * <p>Each node's local bucket is its share, capacity {@code max(1, 20/3) = 6} at 40/3 per second,
 * so in any window {@code W} the three admit at most {@code 3 * 6 + floor(W * 40)}, whatever the
 * load: the window is measured from before the fault to after the last call returned, on the
 * clock the local buckets read. A full-policy fallback (before the share) was allowed
 * {@code 3 * 20 + W * 120}. Every node must admit its burst share at least once (the fallback
 * does answer), and, for the kill and the slowdown, Redis admits nothing in the window.
 */
class LocalShareBoundTest {

  static final Limit LIMIT = Limit.perSecond(40).withCapacity(20);
  static final int NODES = 3;
  static final Duration HAMMER = Duration.ofSeconds(2);

  @ParameterizedTest
  @ValueSource(strings = {"killed", "paused", "slowed"})
  void outage_threeNodes_localAdmitsAtMostTheSharesPlusTheRate(String fault) throws Exception {
    assumeTrue(RedisServer.canStart(), "needs a redis-server it can kill");
    RedisServer server = RedisServer.start();
    ChaosProxy proxy = ChaosProxy.to(server.uri());
    RedisClient control = RedisClient.create(server.uri());
    String name = SharedRedis.uniqueName("localshare");
    List<RedisStore.Factory> factories = new ArrayList<>();
    List<RedisStore<String>> stores = new ArrayList<>();
    List<RateLimiter<String>> limiters = new ArrayList<>();
    try (StatefulRedisConnection<String, String> admin = control.connect()) {
      for (int i = 0; i < NODES; i++) {
        RedisStore.Factory f = RedisStore.factory(proxy.uri());
        factories.add(f);
        limiters.add(RateLimiter.builder(LIMIT).name(name).failureMode(FailureMode.LOCAL)
            .store(new RateStoreFactory() {
              @Override
              public <T> RateStore<T> create(String n, Policy policy, Ticker ticker) {
                RedisStore<T> s = f.create(n, policy, ticker);
                @SuppressWarnings("unchecked")
                RedisStore<String> mine = (RedisStore<String>) s;
                stores.add(mine);
                return s;
              }
            }).build());
      }
      Await.until(Duration.ofSeconds(30), 10_000, () -> {
        limiters.forEach(l -> l.decide("warm", 1));
        return stores.stream().allMatch(s -> s.liveNodes() == NODES);
      }, "every node counts " + NODES);

      long start = System.nanoTime();
      switch (fault) {
        case "killed" -> server.kill();
        case "paused" -> admin.sync().clientPause(HAMMER.toMillis() + 3_000);
        default -> proxy.delay(Duration.ofMillis(300).toNanos());
      }
      AtomicLong local = new AtomicLong();
      AtomicLong fromStore = new AtomicLong();
      long[] perNode = new long[NODES];
      List<Thread> threads = new ArrayList<>();
      long end = System.nanoTime() + HAMMER.toNanos();
      for (int i = 0; i < NODES; i++) {
        int node = i;
        RateLimiter<String> limiter = limiters.get(i);
        Thread t = new Thread(() -> {
          while (System.nanoTime() - end < 0) {
            Decision d = limiter.decide("the-key", 1);
            if (d.allowed()) {
              if (d.source() == Decision.Source.LOCAL_FALLBACK) {
                local.incrementAndGet();
                perNode[node]++;
              } else {
                fromStore.incrementAndGet();
              }
            }
            LockSupport.parkNanos(200_000);
          }
        }, "localshare-" + i);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join(60_000);
        assertThat(t.isAlive()).isFalse();
      }
      long window = System.nanoTime() - start;
      long share = Math.max(1, LIMIT.capacity() / NODES);
      long bound = NODES * share + window * 40 / 1_000_000_000L;
      String report = String.format("LOCALSHARE %s: %d nodes, window %.3f s, admitted locally %d"
              + " (per node %d/%d/%d; bound %d = %d x %d + %.1f s x 40/s; a full-policy fallback's"
              + " bound %d), by Redis %d", fault, NODES, window / 1e9, local.get(), perNode[0],
          perNode[1], perNode[2], bound, NODES, share, window / 1e9,
          NODES * LIMIT.capacity() + window * 120 / 1_000_000_000L, fromStore.get());
      System.out.println(report);
      assertThat(local.get()).as(report).isLessThanOrEqualTo(bound);
      for (long n : perNode) {
        assertThat(n).as(report).isGreaterThanOrEqualTo(share);
      }
      if (!fault.equals("paused")) {
        assertThat(fromStore.get()).as(report).isZero();
      }
    } finally {
      proxy.delay(0);
      limiters.forEach(RateLimiter::close);
      factories.forEach(RedisStore.Factory::close);
      control.shutdown(Duration.ZERO, Duration.ofSeconds(1));
      proxy.close();
      server.kill();
    }
  }
}
