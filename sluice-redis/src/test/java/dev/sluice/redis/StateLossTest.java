package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * State loss is counted, not silent (reliability case 8): a real redis-server restarted without
 * its data, restarted with it ({@code SAVE} first), flushed while connected ({@code FLUSHALL},
 * {@code FLUSHDB}), and its scripts alone flushed. Only a loss of data counts, once per loss;
 * the buckets are full again after one, kept after a restart that kept the data.
 */
class StateLossTest {

  static final Policy POLICY = Policy.of(Limit.of(10, Duration.ofDays(3650)));
  static final Duration WAIT = Duration.ofSeconds(15);

  private RedisServer server;
  private RedisClient control;
  private RedisCommands<String, String> admin;
  private RedisStore.Factory factory;
  private RedisStore<String> store;

  @BeforeEach
  void start() {
    assumeTrue(RedisServer.canStart(), "state-loss tests need a redis-server they can restart");
    server = RedisServer.start();
    control = RedisClient.create(server.uri());
    admin = control.connect().sync();
    factory = RedisStore.factory(server.uri()).deadline(Duration.ofMillis(500));
    store = factory.create(SharedRedis.uniqueName("lost"), POLICY, Ticker.system());
    for (int i = 0; i < 5; i++) {
      assertThat(store.decide("k", 1).allowed()).isTrue();
    }
    assertThat(store.availablePermits("k")).isEqualTo(5);
    awaitWithCalls(() -> store.watch.learned(), "the marker's token read");
    assertThat(store.stateLosses()).isZero();
  }

  @AfterEach
  void stop() {
    if (factory != null) {
      factory.close();
    }
    if (control != null) {
      control.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
    if (server != null) {
      server.kill();
    }
  }

  @Test
  void restartWithoutData_countedOnce_bucketsFullAgain() {
    long reloads = store.stats.reloads.get();
    server.kill();
    server.launch();
    awaitWithCalls(() -> store.stats.stateLost.get() >= 1, "the loss counted");
    System.out.println("STATE LOST restart without data: " + store.stateLosses()
        + " (reloads " + (store.stats.reloads.get() - reloads) + ")");
    assertThat(store.stateLosses()).isEqualTo(1);
    assertThat(store.stats.reloads.get() - reloads).as("found by the NOSCRIPT").isPositive();
    assertThat(store.availablePermits("k")).as("full again").isEqualTo(10);
    // later checks do not count it again
    long checks = store.watch.checks.get();
    awaitWithCalls(() -> store.watch.checks.get() >= checks + 2, "two more checks");
    assertThat(store.stateLosses()).isEqualTo(1);
  }

  @Test
  void restartWithData_saved_notCountedAndBucketsKept() {
    admin.save();
    long reloads = store.stats.reloads.get();
    server.kill();
    server.launch(); // loads dump.rdb from its directory
    awaitWithCalls(() -> store.stats.reloads.get() > reloads, "a NOSCRIPT reload");
    long checks = store.watch.checks.get();
    awaitWithCalls(() -> store.watch.checks.get() > checks, "a check after the restart");
    System.out.println("STATE LOST restart with data: " + store.stateLosses());
    assertThat(store.stateLosses()).isZero();
    assertThat(store.availablePermits("k")).as("kept").isEqualTo(5);
  }

  @Test
  void flushAllThenFlushDb_whileConnected_eachCountedOnce() {
    long reloads = store.stats.reloads.get();
    admin.flushall();
    long t0 = System.nanoTime();
    awaitWithCalls(() -> store.stats.stateLost.get() >= 1, "FLUSHALL counted");
    long found = System.nanoTime() - t0;
    assertThat(store.availablePermits("k")).as("full again").isEqualTo(10);
    assertThat(store.decide("k", 1).allowed()).isTrue();
    admin.flushdb();
    awaitWithCalls(() -> store.stats.stateLost.get() >= 2, "FLUSHDB counted");
    System.out.printf("STATE LOST flushall+flushdb: %d, FLUSHALL found after %.0f ms%n",
        store.stateLosses(), found / 1e6);
    assertThat(store.stateLosses()).isEqualTo(2);
    // a flush keeps the script cache: found by the periodic check, not by a NOSCRIPT
    assertThat(store.stats.reloads.get()).isEqualTo(reloads);
    assertThat(Duration.ofNanos(found)).isLessThan(WAIT);
  }

  @Test
  void scriptFlushAlone_reloadedNotCounted() {
    long reloads = store.stats.reloads.get();
    admin.scriptFlush();
    awaitWithCalls(() -> store.stats.reloads.get() > reloads, "a NOSCRIPT reload");
    long checks = store.watch.checks.get();
    awaitWithCalls(() -> store.watch.checks.get() > checks, "a check after the reload");
    assertThat(store.stateLosses()).isZero();
    assertThat(store.availablePermits("k")).isEqualTo(5);
  }

  @Test
  void anotherStoreNoticedFirst_stillCountedHere() {
    RedisStore<String> other = factory.create(SharedRedis.uniqueName("lost"), POLICY,
        Ticker.system());
    awaitWith(other, () -> other.watch.learned(), "the other store's token");
    admin.flushall();
    awaitWith(other, () -> other.stats.stateLost.get() >= 1, "the other store counts it");
    // the marker is back (with a new token) when this store next looks: still a loss here
    awaitWithCalls(() -> store.stats.stateLost.get() >= 1, "this store counts it too");
    assertThat(store.stateLosses()).isEqualTo(1);
    assertThat(other.stateLosses()).isEqualTo(1);
  }

  /** Waits for {@code condition}, making calls meanwhile (a check starts only on a call). */
  private void awaitWithCalls(BooleanSupplier condition, String what) {
    awaitWith(store, condition, what);
  }

  private static void awaitWith(RedisStore<String> s, BooleanSupplier condition, String what) {
    Await.until(WAIT, 5_000, () -> {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        s.availablePermits("probe");
      } catch (StoreUnavailableException e) {
        // reconnecting: the next poll calls again
      }
      return condition.getAsBoolean();
    }, what);
  }
}
