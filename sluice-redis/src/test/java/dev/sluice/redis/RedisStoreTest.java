package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store against a real standalone Redis, with Redis's own clock. */
class RedisStoreTest {

  private static RedisStore.Factory factory;
  private static RedisClient client;
  private static RedisCommands<byte[], byte[]> redis;

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.uri()).deadline(DEADLINE);
    client = RedisClient.create(SharedRedis.uri());
    StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE);
    redis = c.sync();
  }

  @AfterAll
  static void close() {
    if (factory != null) {
      factory.close();
    }
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  /**
   * Each call's deadline: generous, for a loaded machine. A refund also keeps this much of what
   * it gives back, the most its trip to Redis can take.
   */
  private static final Duration DEADLINE = Duration.ofSeconds(2);

  private static RedisStore<String> store(Limit... limits) {
    return factory.create(SharedRedis.uniqueName("store"), Policy.of(limits), Ticker.system());
  }

  @Test
  void decide_firstRequest_takesFromFullBucketAndExpiresWhenFull() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofSeconds(10)).withCapacity(3))) {
      Decision d = store.decide("a", 1);
      assertThat(d.allowed()).isTrue();
      assertThat(d.remaining()).isEqualTo(2);
      assertThat(d.limit()).isEqualTo(3);
      // one permit short of full: 10 s to go, less the time since the script ran
      assertThat(d.resetAfter()).isBetween(Duration.ofMillis(9_000), Duration.ofSeconds(10));
      long pttl = redis.pttl(store.redisKey("a"));
      assertThat(pttl).isBetween(8_000L, 10_000L);
      assertThat(pttl).isLessThanOrEqualTo(d.resetAfter().toMillis() + 1);
    }
  }

  @Test
  void decide_refusal_writesNothing() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(2))) {
      assertThat(store.decide("a", 2).allowed()).isTrue();
      byte[] key = store.redisKey("a");
      byte[] before = redis.get(key);
      long ttlBefore = redis.pttl(key);
      Decision refused = store.decide("a", 1);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.retryAfter()).hasValueSatisfying(
          w -> assertThat(w).isBetween(Duration.ofMinutes(59), Duration.ofHours(1)));
      assertThat(redis.get(key)).isEqualTo(before);
      assertThat(redis.pttl(key)).isLessThanOrEqualTo(ttlBefore);
    }
  }

  @Test
  void decide_bucketRefills_keyGoneOnceFull() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofMillis(500)))) {
      assertThat(store.decide("a", 1).allowed()).isTrue();
      byte[] key = store.redisKey("a");
      assertThat(redis.pttl(key)).isBetween(1L, 500L);
      Await.until(Duration.ofSeconds(2), () -> redis.exists(key) == 0, "the key expires when full");
      assertThat(store.availablePermits("a")).isEqualTo(1);
    }
  }

  @Test
  void decide_exceedsCapacity_refusedForever() {
    try (RedisStore<String> store = store(Limit.perMinute(5))) {
      Decision d = store.decide("a", 6);
      assertThat(d.allowed()).isFalse();
      assertThat(d.canEverSucceed()).isFalse();
      assertThat(d.retryAfter()).isEmpty();
      assertThat(d.remaining()).isEqualTo(5);
      assertThat(redis.exists(store.redisKey("a"))).isZero();
    }
  }

  @Test
  void decide_severalLimits_allOrNothing() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(10),
        Limit.of(1, Duration.ofHours(2)).withCapacity(4))) {
      assertThat(store.decide("a", 3).allowed()).isTrue();
      Decision refused = store.decide("a", 3);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.remaining()).isEqualTo(1);
      assertThat(refused.limit()).isEqualTo(4);
      // the refusal by the second limit took nothing from the first
      assertThat(store.decide("a", 1).remaining()).isZero();
      assertThat(store.decide("b", 4).allowed()).isTrue();
    }
  }

  @Test
  void decide_manyThreadsOnOneKey_admitExactlyTheCapacity() throws Exception {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(50))) {
      AtomicInteger admitted = new AtomicInteger();
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread thread = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < 40; i++) {
            if (store.tryAcquire("hot", 1)) {
              admitted.incrementAndGet();
            }
          }
        });
        threads.add(thread);
        thread.start();
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertThat(admitted).hasValue(50);
      assertThat(store.availablePermits("hot")).isZero();
    }
  }

  @Test
  void decideAsync_manyInFlight_admitExactlyTheCapacity() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(100))) {
      List<CompletableFuture<Decision>> futures = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        futures.add(store.decideAsync("hot", 1).toCompletableFuture());
      }
      long admitted = futures.stream().map(CompletableFuture::join).filter(Decision::allowed).count();
      assertThat(admitted).isEqualTo(100);
      assertThat(store.availablePermits("hot")).isZero();
    }
  }

  /**
   * Many calls in flight at once share commands (the store keeps two in flight and batches the
   * rest): each is still decided on its own, in arrival order, whatever its key and size.
   */
  @Test
  void decideAsync_mixedCallsInFlight_eachDecidedInOrder() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(5))) {
      List<CompletableFuture<Decision>> a = new ArrayList<>();
      List<CompletableFuture<Decision>> b = new ArrayList<>();
      List<CompletableFuture<Decision>> c = new ArrayList<>();
      for (int round = 0; round < 4; round++) {
        a.add(store.decideAsync("a", 2).toCompletableFuture());
        b.add(store.decideAsync("b", 6).toCompletableFuture());
        c.add(store.decideAsync("c", 1).toCompletableFuture());
        c.add(store.decideAsync("c", 1).toCompletableFuture());
      }
      // a: 2 + 2, then refused (1 left) twice
      assertThat(a).extracting(f -> f.join().allowed()).containsExactly(true, true, false, false);
      assertThat(a.get(3).join().remaining()).isEqualTo(1);
      // b: more than the capacity, never
      assertThat(b).allSatisfy(f -> assertThat(f.join().canEverSucceed()).isFalse());
      // c: five of eight, the first five
      assertThat(c).extracting(f -> f.join().allowed())
          .containsExactly(true, true, true, true, true, false, false, false);
      assertThat(c).extracting(f -> f.join().remaining()).containsExactly(4L, 3L, 2L, 1L, 0L, 0L, 0L, 0L);
      assertThat(store.stats.roundTrips.get()).isLessThanOrEqualTo(16);
    }
  }

  /**
   * One thread's async calls on one key are decided in the order it made them, while replies
   * complete (and send the queued calls) on Lettuce's threads: with capacity C, exactly the first
   * C are admitted. Many rounds, so that a send racing a completion has its chance to reorder.
   */
  @Test
  void decideAsync_oneThreadsCalls_decidedInTheOrderMade() {
    for (int round = 0; round < 40; round++) {
      try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(50))) {
        List<CompletableFuture<Decision>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          calls.add(store.decideAsync("k", 1).toCompletableFuture());
        }
        StringBuilder order = new StringBuilder();
        for (CompletableFuture<Decision> call : calls) {
          order.append(call.join().allowed() ? 'T' : 'F');
        }
        assertThat(order.toString()).as("round %d", round)
            .isEqualTo("T".repeat(50) + "F".repeat(50));
      }
    }
  }

  @Test
  void decide_afterScriptFlush_reloadsOnceAndCountsOnce() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(10))
        ) {
      assertThat(store.decide("a", 1).remaining()).isEqualTo(9);
      redis.scriptFlush();
      long reloads = store.stats.reloads.get();
      assertThat(store.decide("a", 1).remaining()).isEqualTo(8);
      assertThat(store.stats.reloads.get()).isEqualTo(reloads + 1);
      assertThat(store.decideAsync("a", 1).toCompletableFuture().join().remaining()).isEqualTo(7);
      assertThat(store.availablePermits("a")).isEqualTo(7);
    }
  }

  @Test
  void refund_expiryFollowsTheTimeUntilFull_keyGoneWhenFull() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofSeconds(10)).withCapacity(3))) {
      assertThat(store.decide("a", 3).allowed()).isTrue();
      byte[] key = store.redisKey("a");
      assertThat(redis.pttl(key)).isBetween(28_000L, 30_000L);
      store.refund("a", 2, 0);
      // 2 back less the deadline the store keeps for the refund's trip to Redis (it never gives
      // back refill kept meanwhile): 20 s - 2 s, so 1.8 permits and 12 s to full, less the time
      // since the take
      assertThat(redis.pttl(key)).isBetween(10_000L, 12_000L);
      assertThat(store.availablePermits("a")).isEqualTo(1);
      store.refund("a", 3, 0); // more than is missing: capped at full
      assertThat(redis.exists(key)).as("a full bucket is no key").isZero();
      assertThat(store.availablePermits("a")).isEqualTo(3);
    }
  }

  @Test
  void refund_keyRedisDoesNotHold_writesNothing() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(3))) {
      store.refund("never-taken", 2, 0);
      assertThat(redis.exists(store.redisKey("never-taken"))).isZero();
      assertThat(store.availablePermits("never-taken")).isEqualTo(3);
    }
  }

  @Test
  void refund_concurrentOnOneKey_eachAppliedOnce() {
    try (RedisStore<String> store = store(Limit.of(1, Duration.ofHours(1)).withCapacity(4))) {
      assertThat(store.decide("a", 4).allowed()).isTrue();
      List<CompletableFuture<Decision>> after = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread thread = new Thread(() -> store.refund("a", 1, 0));
        threads.add(thread);
        thread.start();
      }
      for (Thread t : threads) {
        try {
          t.join();
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
      // each refund gives back one hour less the deadline kept for its trip to Redis: four
      // applied once each leave 3 permits and the fourth 4 deadlines away (three would leave it
      // an hour away, five would admit it)
      Decision four = store.decide("a", 4);
      assertThat(four.allowed()).as(four.toString()).isFalse();
      long fourDeadlines = 4 * DEADLINE.toNanos();
      assertThat(four.retryAfterNanos()).as(four.toString())
          .isBetween(fourDeadlines - 1_000_000_000L, fourDeadlines);
      assertThat(store.decide("a", 3).allowed()).isTrue();
      assertThat(store.decide("a", 1).allowed()).isFalse();
      assertThat(after).isEmpty();
    }
  }

  @Test
  void refund_unreachableRedis_failsWithStoreUnavailable() {
    int port = RedisServer.freePort(false);
    Policy policy = Policy.of(Limit.perSecond(1));
    try (RedisStore.Factory f = RedisStore.factory("redis://127.0.0.1:" + port);
        RedisStore<String> store = f.create("down", policy, Ticker.system())) {
      assertThatThrownBy(() -> store.refund("a", 1, 0)).isInstanceOf(StoreUnavailableException.class);
      assertThat(store.stats.failures.get()).isPositive();
    }
  }

  @Test
  void redisKey_hostileKeys_stayInTheirNamespaceAsOneHashTag() {
    try (RedisStore<Object> store = factory.namespace("ns").create("hostile", Policy.of(
        Limit.of(1, Duration.ofHours(1))), Ticker.system())) {
      char[] big = new char[1 << 20];
      Arrays.fill(big, '{');
      List<Object> keys = List.of(new String(big), "{x}", "}{", "a:b}{c", "",
          new byte[] {0, '{', (byte) 0xff, '}', 0, '\n'}, "\u0000\r\n*1\r\n$4\r\nPING");
      for (Object key : keys) {
        assertThat(store.decide(key, 1).allowed()).isTrue();
        String redisKey = new String(store.redisKey(key), StandardCharsets.ISO_8859_1);
        assertThat(redisKey).matches("\\{ns:hostile:[A-Za-z0-9_-]{43}}:[A-Za-z0-9_-]{11}");
      }
      List<byte[]> stored = redis.keys("{ns:hostile:*");
      assertThat(stored).hasSize(keys.size());
      for (byte[] k : stored) {
        assertThat(new String(k, StandardCharsets.ISO_8859_1)).matches("\\{ns:hostile:[A-Za-z0-9_-]{43}}:[A-Za-z0-9_-]{11}");
      }
    }
  }

  @Test
  void close_passedInClient_staysOpen() {
    RedisClient own = RedisClient.create(SharedRedis.uri());
    try {
      own.setOptions(RedisStore.clientOptions());
      RedisStore.Factory f = RedisStore.factory(own).deadline(DEADLINE);
      RedisStore<String> store = f.create(SharedRedis.uniqueName("own"), Policy.of(Limit.perSecond(1)),
          Ticker.system());
      assertThat(store.decide("a", 1).allowed()).isTrue();
      store.close();
      f.close();
      try (StatefulRedisConnection<String, String> c = own.connect()) {
        assertThat(c.sync().ping()).isEqualTo("PONG");
      }
      assertThatThrownBy(() -> store.decide("a", 1)).isInstanceOf(StoreUnavailableException.class);
    } finally {
      own.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  @Test
  void close_lastStoreOfUriFactory_closesItsConnection() {
    String name = SharedRedis.uniqueName("owned");
    RedisStore.Factory f = RedisStore.factory(SharedRedis.uri() + "?clientName=" + name)
        .deadline(DEADLINE);
    long before = clients(name);
    assertThat(before).isZero();
    RedisStore<String> a = f.create(name + "a", Policy.of(Limit.perSecond(1)), Ticker.system());
    RedisStore<String> b = f.create(name + "b", Policy.of(Limit.perSecond(1)), Ticker.system());
    assertThat(a.decide("k", 1).allowed()).isTrue();
    assertThat(clients(name)).isEqualTo(1);
    a.close();
    assertThat(b.decide("k", 1).allowed()).isTrue();
    b.close();
    Await.until(Duration.ofSeconds(5), () -> clients(name) == 0, "the factory's connection closes");
    // and the factory opens a new one for a new store
    try (RedisStore<String> c = f.create(name + "c", Policy.of(Limit.perSecond(1)), Ticker.system())) {
      assertThat(c.decide("k", 1).allowed()).isTrue();
    }
    f.close();
    assertThatThrownBy(() -> f.create(name + "d", Policy.of(Limit.perSecond(1)), Ticker.system()))
        .isInstanceOf(IllegalStateException.class);
  }

  private static long clients(String name) {
    return redis.clientList().lines().filter(l -> l.contains(" name=" + name + " ")).count();
  }

  @Test
  void limiter_overRedisWithSkewedTickers_sharesOneBucket() {
    String name = SharedRedis.uniqueName("shared");
    Limit limit = Limit.of(1, Duration.ofHours(1)).withCapacity(5);
    RedisStore.Factory other = RedisStore.factory(SharedRedis.uri()).deadline(DEADLINE);
    try (RateLimiter<String> a = RateLimiter.builder(limit).name(name).store(factory)
            .ticker(() -> System.nanoTime() - 10_000_000_000L).build();
        RateLimiter<String> b = RateLimiter.builder(limit).name(name).store(other)
            .ticker(() -> System.nanoTime() + 10_000_000_000L).build()) {
      int admitted = 0;
      for (int i = 0; i < 6; i++) {
        admitted += a.tryAcquire("user") ? 1 : 0;
        admitted += b.tryAcquire("user") ? 1 : 0;
      }
      assertThat(admitted).isEqualTo(5);
      // decided by Redis: by the script, or by the deny cache remembering its refusal
      assertThat(a.decide("user", 1).source()).isIn(Decision.Source.STORE,
          Decision.Source.DENY_CACHE);
    } finally {
      other.close();
    }
  }

  @Test
  void factory_outOfRangeOptions_refusedNamingTheBound() {
    RedisStore.Factory f = RedisStore.factory("redis://127.0.0.1:1");
    assertThatThrownBy(() -> f.deadline(Duration.ZERO)).hasMessageContaining("deadline (PT0S)")
        .hasMessageContaining("PT0.001S");
    assertThatThrownBy(() -> f.deadline(Duration.ofMinutes(2))).hasMessageContaining("PT1M");
    assertThatThrownBy(() -> f.namespace("a{b}")).hasMessageContaining("[A-Za-z0-9._:-]");
    assertThatThrownBy(() -> f.circuitBreaker(0, Duration.ofSeconds(1)))
        .hasMessageContaining("between 1 and 1000");
    assertThatThrownBy(() -> f.create("bad name", Policy.of(Limit.perSecond(1)), Ticker.system()))
        .hasMessageContaining("[A-Za-z0-9._-]");
    assertThatThrownBy(() -> RedisStore.factory("localhost:6379"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("redis://");
    assertThatThrownBy(() -> RedisStore.factory("redis-cluster://a:1,,b:2"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty host");
  }

  @Test
  void decide_unreachableRedis_failsFastWithStoreUnavailable() {
    int port = RedisServer.freePort(false);
    try (RedisStore.Factory f = RedisStore.factory("redis://127.0.0.1:" + port);
        RedisStore<String> store = f.create("down", Policy.of(Limit.perSecond(1)), Ticker.system())) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> store.decide("a", 1)).isInstanceOf(StoreUnavailableException.class);
      assertThatThrownBy(() -> store.decideAsync("a", 1).toCompletableFuture().join())
          .hasCauseInstanceOf(StoreUnavailableException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
    }
  }
}
