package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A bucket's key overwritten by another application (a string of another size, a hash): the
 * store never reads it as state and never admits from it; the call fails, the limiter follows
 * its failure mode, and the key decides again once the foreign value is gone.
 */
class ForeignValueTest {

  private static RedisStore.Factory factory;
  private static RedisClient client;
  private static RedisCommands<byte[], byte[]> redis;

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(2));
    client = RedisClient.create(SharedRedis.uri());
    redis = client.connect(ByteArrayCodec.INSTANCE).sync();
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

  @Test
  void keyOverwrittenWithAStringOrAHash_failureModeNeverAnAdmission() {
    Policy policy = Policy.of(Limit.of(1, Duration.ofHours(1)).withCapacity(1_000));
    String name = SharedRedis.uniqueName("foreign");
    try (RedisStore<String> store = factory.create(name, policy, Ticker.system());
        RateLimiter<String> limiter = RateLimiter.builder(policy).name(name).store(factory)
            .failureMode(FailureMode.CLOSED).build()) {
      assertThat(limiter.decide("s", 10).remaining()).isEqualTo(990);
      byte[] key = store.redisKey("s");
      redis.set(key, "hello, I am someone else's value".getBytes(StandardCharsets.UTF_8));
      Decision d = limiter.decide("s", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
      assertThat(d.allowed()).isFalse();
      // untouched: the store wrote nothing over it
      assertThat(new String(redis.get(key), StandardCharsets.UTF_8))
          .isEqualTo("hello, I am someone else's value");

      byte[] hashKey = store.redisKey("h");
      redis.hset(hashKey, "f".getBytes(StandardCharsets.UTF_8), new byte[] {1});
      assertThat(limiter.decide("h", 1).source()).isEqualTo(Decision.Source.FAILURE_CLOSED);

      // other keys are decided as before, and a key decides again once its value is gone
      assertThat(limiter.decide("other", 1).source()).isEqualTo(Decision.Source.STORE);
      redis.del(key, hashKey);
      Decision again = limiter.decide("s", 1);
      assertThat(again.source()).isEqualTo(Decision.Source.STORE);
      assertThat(again.remaining()).isEqualTo(999);
    }
  }
}
