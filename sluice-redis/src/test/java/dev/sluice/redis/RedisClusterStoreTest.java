package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store against a real 3-master Redis Cluster started by the test. */
class RedisClusterStoreTest {

  private static RedisStore.Factory factory;
  private static final List<RedisClient> CLIENTS = new ArrayList<>();
  private static final List<RedisCommands<byte[], byte[]>> NODES = new ArrayList<>();

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.clusterUri()).deadline(Duration.ofSeconds(2));
    for (int port : SharedRedis.clusterPorts()) {
      RedisClient c = RedisClient.create("redis://127.0.0.1:" + port);
      CLIENTS.add(c);
      NODES.add(c.connect(ByteArrayCodec.INSTANCE).sync());
    }
  }

  @AfterAll
  static void close() {
    if (factory != null) {
      factory.close();
    }
    for (RedisClient c : CLIENTS) {
      c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  @Test
  void decide_manyKeys_spreadOverEveryMasterAndExact() {
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("spread"),
        Policy.of(Limit.of(1, Duration.ofHours(1)).withCapacity(3)), Ticker.system())) {
      for (int k = 0; k < 30; k++) {
        for (int i = 0; i < 4; i++) {
          Decision d = store.decide("user-" + k, 1);
          assertThat(d.allowed()).as("key %d request %d", k, i).isEqualTo(i < 3);
        }
      }
      for (RedisCommands<byte[], byte[]> node : NODES) {
        assertThat(node.dbsize()).as("every master holds some buckets").isPositive();
      }
      List<CompletableFuture<Decision>> async = new ArrayList<>();
      for (int k = 100; k < 130; k++) {
        async.add(store.decideAsync("user-" + k, 2).toCompletableFuture());
      }
      assertThat(async).allSatisfy(f -> assertThat(f.join().remaining()).isEqualTo(1));
    }
  }

  @Test
  void redisKey_hostileKeys_eachInTheSlotOfItsOwnTag() {
    String name = SharedRedis.uniqueName("hostile");
    try (RedisStore<Object> store = factory.create(name,
        Policy.of(Limit.of(1, Duration.ofHours(1))), Ticker.system())) {
      char[] big = new char[1 << 20];
      Arrays.fill(big, '}');
      List<Object> keys = List.of(new String(big), "{x}", "{}", "}{y}", "a{b}c",
          new byte[] {'{', 0, (byte) 0x80, '}', '{'}, "{" + name + "}");
      Set<Integer> slots = new HashSet<>();
      for (Object key : keys) {
        assertThat(store.decide(key, 1).allowed()).isTrue();
        byte[] redisKey = store.redisKey(key);
        String text = new String(redisKey, StandardCharsets.ISO_8859_1);
        assertThat(text).matches("\\{sluice:" + name + ":[A-Za-z0-9_-]{43}}:[A-Za-z0-9_-]{11}");
        // the part in braces is the hash tag: the slot is that of its inside, whatever the key
        byte[] inside = Arrays.copyOfRange(redisKey, 1, text.indexOf('}'));
        int slot = SlotHash.getSlot(inside);
        assertThat(NODES.get(0).clusterKeyslot(redisKey)).isEqualTo(slot);
        // and the bucket is on the master that owns that slot, once
        // (only this store's keys: another test's bucket may share the slot)
        List<byte[]> held = new ArrayList<>();
        for (RedisCommands<byte[], byte[]> node : NODES) {
          for (byte[] k : node.clusterGetKeysInSlot(slot, 100)) {
            if (new String(k, StandardCharsets.ISO_8859_1).startsWith("{sluice:" + name + ":")) {
              held.add(k);
            }
          }
        }
        assertThat(held).hasSize(1);
        assertThat(held.get(0)).isEqualTo(redisKey);
        assertThat(store.decide(key, 1).allowed()).isFalse();
        slots.add(slot);
      }
      assertThat(slots).hasSize(keys.size());
    }
  }
}
