package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.MigrateArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real slot migration on a real 3-master Cluster of its own (reliability case 7): while two
 * threads decide on one key, its slot moves to another master ({@code CLUSTER SETSLOT
 * IMPORTING/MIGRATING}, {@code MIGRATE}, {@code SETSLOT NODE}). The client follows the
 * {@code ASK} and {@code MOVED} redirects, and the bucket's state is the migrated one: with no
 * refill during the run, the admissions never exceed the capacity (a bucket restarted on the
 * target would admit up to twice it), and decisions after the migration come from the target.
 */
class SlotMigrationTest {

  static final long CAPACITY = 200;
  static final Policy POLICY = Policy.of(Limit.of(CAPACITY, Duration.ofDays(3650)));

  private List<RedisServer> nodes;
  private final List<RedisClient> clients = new ArrayList<>();
  private RedisStore.Factory factory;

  @AfterEach
  void stop() {
    if (factory != null) {
      factory.close();
    }
    for (RedisClient c : clients) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
    if (nodes != null) {
      for (RedisServer n : nodes) {
        n.kill();
      }
    }
  }

  @Test
  void slotMigratedWhileDeciding_redirectsFollowed_stateMigratedNeverOverAdmits() {
    assumeTrue(RedisServer.canStart(), "needs redis-server to start a Cluster");
    nodes = SharedRedis.startCluster(3);
    List<RedisCommands<String, String>> admin = new ArrayList<>();
    StringBuilder uri = new StringBuilder("redis-cluster://");
    for (RedisServer n : nodes) {
      RedisClient c = RedisClient.create(n.uri());
      clients.add(c);
      admin.add(c.connect().sync());
      uri.append(uri.length() > 16 ? "," : "").append("127.0.0.1:").append(n.port);
    }
    factory = RedisStore.factory(uri.toString()).deadline(Duration.ofSeconds(2))
        .denyCache(false);
    RedisStore<String> store = factory.create(SharedRedis.uniqueName("migrate"), POLICY,
        Ticker.system());
    String key = new String(store.redisKey("hot"), StandardCharsets.US_ASCII);
    int slot = SlotHash.getSlot(key);
    int src = Math.min(slot / (16384 / 3), 2);
    int dst = (src + 1) % 3;
    String srcId = admin.get(src).clusterMyId();
    String dstId = admin.get(dst).clusterMyId();

    AtomicLong admitted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong notByRedis = new AtomicLong();
    AtomicLong refusedAfter = new AtomicLong();
    AtomicLong admittedAfter = new AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean migrated =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread th = new Thread(() -> {
        while (running.get()) {
          boolean after = migrated.get();
          try {
            Decision d = store.decide("hot", POLICY, 1);
            if (d.source() != Decision.Source.STORE) {
              notByRedis.incrementAndGet();
            }
            if (d.allowed()) {
              admitted.incrementAndGet();
              if (after) {
                admittedAfter.incrementAndGet();
              }
            } else {
              refused.incrementAndGet();
              if (after) {
                refusedAfter.incrementAndGet();
              }
            }
          } catch (StoreUnavailableException e) {
            failed.incrementAndGet();
          }
          LockSupport.parkNanos(1_000_000L);
        }
      }, "migrate-load");
      th.setDaemon(true);
      threads.add(th);
      th.start();
    }
    try {
      Await.until(Duration.ofSeconds(20), () -> admitted.get() >= CAPACITY / 4,
          "a quarter of the bucket taken before the migration");
      // the migration, as redis-cli --cluster reshard does it, while the threads decide
      admin.get(dst).clusterSetSlotImporting(slot, srcId);
      admin.get(src).clusterSetSlotMigrating(slot, dstId);
      long before = admitted.get();
      Await.until(Duration.ofSeconds(20), () -> admitted.get() >= before + 5,
          "decisions while the slot is migrating");
      List<String> keys = admin.get(src).clusterGetKeysInSlot(slot, 1000);
      assertThat(keys).contains(key);
      admin.get(src).migrate("127.0.0.1", nodes.get(dst).port, 0, 5_000,
          MigrateArgs.Builder.keys(keys));
      long moved = admitted.get();
      Await.until(Duration.ofSeconds(20), () -> admitted.get() >= moved + 5,
          "decisions after MIGRATE (by ASK to the importing node)");
      admin.get(dst).clusterSetSlotNode(slot, dstId);
      admin.get(src).clusterSetSlotNode(slot, dstId);
      admin.get(3 - src - dst).clusterSetSlotNode(slot, dstId);
      migrated.set(true);
      // the rest of the bucket, then refusals: all decided on the target
      Await.until(Duration.ofSeconds(30), () -> refusedAfter.get() >= 20,
          "refusals once the bucket is drained on the target");
    } finally {
      running.set(false);
      for (Thread th : threads) {
        try {
          th.join(5_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    assertThat(admin.get(dst).exists(key)).as("the bucket is on the target").isEqualTo(1);
    assertThat(admin.get(src).clusterCountKeysInSlot(slot)).as("and not on the source").isZero();
    System.out.printf("MIGRATE slot %d node %d -> %d: admitted %d of capacity %d (after SETSLOT"
            + " NODE %d), refused %d, failed %d%n", slot, src, dst, admitted.get(), CAPACITY,
        admittedAfter.get(), refused.get(), failed.get());
    // never an admission the bucket did not give: at most C, and all of C but the failed calls
    // (each may have taken a permit in Redis, once)
    assertThat(notByRedis.get()).isZero();
    assertThat(admitted.get()).isLessThanOrEqualTo(CAPACITY);
    assertThat(admitted.get() + failed.get()).isGreaterThanOrEqualTo(CAPACITY);
    assertThat(store.availablePermits("hot")).isZero();
  }
}
