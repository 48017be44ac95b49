package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The live node count each store learns from its heartbeat ({@link RedisStore#liveNodes()}): three
 * stores of one limiter, each with its own connection, count 3; one that closes leaves the count;
 * another limiter name (or namespace) is another count.
 */
class HeartbeatTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  /** Long: a decision that misses it on a loaded machine is retried, and only the count matters. */
  private static final Duration DEADLINE = Duration.ofSeconds(2);

  private static void decide(RedisStore<String> store) {
    try {
      store.decide("k", 1);
    } catch (StoreUnavailableException slow) {
      // the beat was sent before the call; the next round tries again
    }
  }

  @Test
  void liveNodes_threeStoresOneName_eachCountsThreeThenTwoAfterOneCloses() {
    String uri = SharedRedis.uri();
    String name = SharedRedis.uniqueName("heartbeat");
    Policy policy = Policy.of(Limit.perSecond(1_000));
    try (RedisStore.Factory fa = RedisStore.factory(uri).deadline(DEADLINE);
        RedisStore.Factory fb = RedisStore.factory(uri).deadline(DEADLINE);
        RedisStore.Factory fc = RedisStore.factory(uri).deadline(DEADLINE);
        RedisStore.Factory other = RedisStore.factory(uri).deadline(DEADLINE)) {
      RedisStore<String> a = fa.create(name, policy, Ticker.system());
      RedisStore<String> b = fb.create(name, policy, Ticker.system());
      RedisStore<String> c = fc.create(name, policy, Ticker.system());
      RedisStore<String> elsewhere = other.create(name + "-x", policy, Ticker.system());
      List<RedisStore<String>> all = List.of(a, b, c);
      // beats ride on decisions, at most one per store every 2 s
      Await.until(WAIT, 10_000, () -> {
        all.forEach(HeartbeatTest::decide);
        decide(elsewhere);
        return all.stream().allMatch(s -> s.liveNodes() == 3);
      }, "every store counts 3 live nodes");
      assertThat(elsewhere.liveNodes()).isEqualTo(1);
      c.close();
      Await.until(WAIT, 10_000, () -> {
        decide(a);
        decide(b);
        return a.liveNodes() == 2 && b.liveNodes() == 2;
      }, "a closed store is no longer counted");
      a.close();
      b.close();
      elsewhere.close();
    }
  }
}
