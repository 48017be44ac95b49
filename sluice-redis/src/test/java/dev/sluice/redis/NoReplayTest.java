package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * No command is ever sent twice, and none waits for a connection: the Lettuce options Sluice sets,
 * and what they do against a real Redis behind a {@link ChaosProxy}. The deadline is long (2 s),
 * so that a replay or a queued command would have all the time it needs to reach Redis and be
 * seen: the checks are on counts in Redis and on the store's own counters, never on timing.
 */
class NoReplayTest {

  static final Duration DEADLINE = Duration.ofSeconds(2);
  static final long CAPACITY = 1_000;
  static final Policy POLICY = Policy.of(Limit.of(CAPACITY, Duration.ofDays(3650)));

  private ChaosProxy proxy;
  private RedisStore.Factory viaProxy;
  private RedisStore.Factory direct;
  private RateLimiter<String> limiter;
  private RateLimiter<String> observer;
  private final AtomicReference<RedisStore<String>> store = new AtomicReference<>();

  @AfterEach
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {limiter, observer, viaProxy, direct, proxy}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // closing anyway
        }
      }
    }
  }

  @Test
  void clientOptions_rejectWhileDisconnectedAndReplayNothing() {
    Command<byte[], byte[], String> evalsha =
        new Command<>(CommandType.EVALSHA, new StatusOutput<>(ByteArrayCodec.INSTANCE));
    ClientOptions[] all = {RedisStore.clientOptions(), RedisStore.clusterClientOptions()};
    for (int i = 0; i < all.length; i++) {
      ClientOptions o = all[i];
      System.out.println("OPTIONS " + i + " replay filter of an EVALSHA: "
          + o.getReplayFilter().test(evalsha) + ", " + o.getDisconnectedBehavior());
      assertThat(o.isAutoReconnect()).isTrue();
      assertThat(o.getDisconnectedBehavior())
          .isEqualTo(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
      // the filter names the commands NOT to replay after a reconnect: every one
      assertThat(o.getReplayFilter().test(evalsha)).as("an EVALSHA is never replayed").isTrue();
    }
    assertThat(RedisStore.clusterClientOptions()).isInstanceOf(ClusterClientOptions.class);
  }

  /**
   * The connection dies after Redis ran the command and before its reply came back: the caller
   * gets the failure mode, and Redis holds that one take, not two (a replay after the reconnect
   * would run it again and report an admission).
   */
  @Test
  void replyLost_commandRanOnceAndTheCallerGetsTheFailureMode() {
    start();
    proxy.loseNextScriptReply();
    Decision d = limiter.decide("lost", 1);
    assertThat(d.source()).as("a lost reply is never answered by a replay")
        .isEqualTo(Decision.Source.FAILURE_CLOSED);
    // the reconnected client works again, and Redis took the lost command's permit once
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("warm", 1).source() == Decision.Source.STORE, "reconnected");
    assertThat(observer.availablePermits("lost")).isEqualTo(CAPACITY - 1);
    assertThat(store.get().stats.timeouts.get()).isZero();
  }

  /**
   * While the connection is down, calls fail at once (Lettuce rejects them, nothing is queued
   * for later), and when it is back no command of that time reaches Redis.
   */
  @Test
  void disconnected_callsRejectedAtOnceAndNeverSentLater() {
    start();
    long scriptsBefore = proxy.scripts();
    proxy.refuse(true);
    proxy.dropAll();
    long failuresBefore = store.get().stats.failures.get();
    int n = 0;
    // a few calls: the first ones reach Lettuce, then the breaker opens (after 5 failures)
    while (store.get().stats.failures.get() - failuresBefore < 8 && n < 10_000) {
      assertThat(limiter.decide("down", 1).source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
      n++;
    }
    RedisStore<String> s = store.get();
    assertThat(s.stats.errors.get()).as("calls rejected by the client").isPositive();
    assertThat(s.stats.timeouts.get()).as("no call waited for a connection").isZero();
    assertThat(proxy.scripts()).as("no script command left the client").isEqualTo(scriptsBefore);
    proxy.refuse(false);
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("warm", 1).source() == Decision.Source.STORE, "reconnected");
    assertThat(observer.availablePermits("down")).as("nothing queued was sent later")
        .isEqualTo(CAPACITY);
    assertThat(s.stats.timeouts.get()).isZero();
  }

  private void start() {
    String uri = SharedRedis.uri();
    proxy = ChaosProxy.to(uri);
    viaProxy = RedisStore.factory(proxy.uri()).deadline(DEADLINE);
    direct = RedisStore.factory(uri).deadline(DEADLINE);
    String name = SharedRedis.uniqueName("replay");
    limiter = RateLimiter.builder(POLICY).name(name).store(capturing(viaProxy, store))
        .failureMode(FailureMode.CLOSED).build();
    observer = RateLimiter.builder(POLICY).name(name).store(direct)
        .failureMode(FailureMode.CLOSED).build();
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("warm", 1).source() == Decision.Source.STORE, "connected");
  }

  static RateStoreFactory capturing(RedisStore.Factory factory,
      AtomicReference<RedisStore<String>> into) {
    return new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        RedisStore<K> s = factory.create(name, policy, ticker);
        @SuppressWarnings("unchecked")
        RedisStore<String> typed = (RedisStore<String>) s;
        into.set(typed);
        return s;
      }
    };
  }
}
