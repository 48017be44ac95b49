package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimitListener;
import dev.sluice.RateLimiter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every error reply Redis can give a script command reaches the failure mode as a backend error:
 * counted by the store and reported to the listener, answered by the mode, never "allowed" by the
 * store. The replies are injected by a {@link ChaosProxy} exactly as Redis sends them (a script
 * that returns the error), one per case, under {@code OPEN} (where a wrong answer would be an
 * admission that looks like the store's) and {@code CLOSED}. Standalone Lettuce does not follow
 * {@code MOVED}/{@code ASK}: on a standalone URI they are errors like the others. (Following a
 * real {@code MOVED} on a Cluster, after a slot migration or a failover, is not tested here.)
 */
class ErrorRepliesTest {

  static final Policy POLICY = Policy.of(Limit.of(1_000, Duration.ofDays(3650)));

  private ChaosProxy proxy;
  private RedisStore.Factory factory;
  private RateLimiter<String> limiter;
  private final AtomicReference<RedisStore<String>> store = new AtomicReference<>();
  private final List<Throwable> reported = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    if (limiter != null) {
      limiter.close();
    }
    if (factory != null) {
      factory.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "WRONGTYPE Operation against a key holding the wrong kind of value",
      "OOM command not allowed when used memory > 'maxmemory'.",
      "READONLY You can't write against a read only replica.",
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
      "ERR user_script:1: Script attempted to access nonexistent global variable 'x'",
      "CROSSSLOT Keys in request don't hash to the same slot",
      "MOVED 3999 127.0.0.1:6381",
      "ASK 3999 127.0.0.1:6381",
      "TRYAGAIN Multiple keys request during rehashing of slot",
      "CLUSTERDOWN The cluster is down",
      "LOADING Redis is loading the dataset in memory",
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'"})
  void errorReply_eachMode_backendErrorCountedNeverAllowedByTheStore(String reply) {
    for (FailureMode mode : new FailureMode[] {FailureMode.OPEN, FailureMode.CLOSED}) {
      start(mode);
      long errors = store.get().stats.errors.get();
      proxy.injectError(reply, 1);
      Decision d = limiter.decide("k", 1);
      String code = reply.substring(0, reply.indexOf(' '));
      assertThat(d.source()).as("%s under %s", code, mode)
          .isEqualTo(mode == FailureMode.OPEN ? Decision.Source.FAILURE_OPEN
              : Decision.Source.FAILURE_CLOSED);
      assertThat(d.allowed()).isEqualTo(mode == FailureMode.OPEN);
      // the store counts the error just after it completes the call: wait for it, then exactly one
      Await.until(Duration.ofSeconds(5), 100, () -> store.get().stats.errors.get() > errors,
          "the error counted");
      assertThat(store.get().stats.errors.get() - errors).as("counted once").isEqualTo(1);
      assertThat(reported).as("reported to the listener").hasSize(1);
      assertThat(String.valueOf(reported.get(0))).contains(code);
      // the next call is Redis's again: one error does not break the store
      assertThat(limiter.decide("k", 1).source()).isEqualTo(Decision.Source.STORE);
      stop();
      reported.clear();
    }
  }

  private void start(FailureMode mode) {
    proxy = ChaosProxy.to(SharedRedis.uri());
    factory = RedisStore.factory(proxy.uri()).deadline(Duration.ofSeconds(2));
    limiter = RateLimiter.builder(POLICY).name(SharedRedis.uniqueName("errors"))
        .store(NoReplayTest.capturing(factory, store)).failureMode(mode)
        .listener(new RateLimitListener() {
          @Override
          public void onBackendError(String limiter, Throwable error) {
            reported.add(error);
          }
        }).build();
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("warm", 1).source() == Decision.Source.STORE, "connected");
    reported.clear();
  }
}
