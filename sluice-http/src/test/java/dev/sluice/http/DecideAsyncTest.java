package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.http.HttpLimiterTest.Req;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpLimiter#decideAsync} against {@link HttpLimiter#decide}: twin limiters fed the same
 * random timelines give the same verdicts, and over a store that answers later, the stage waits
 * for the store (decisions and refunds) without the calling thread waiting.
 */
class DecideAsyncTest {

  private static final KeyResolver KEY = KeyResolver.header("X-Key");

  /** One twin: every kind of rule, one of them over a store that can be made unreachable. */
  private static HttpLimiter twin(ManualTicker t, AtomicBoolean down, FailureMode mode) {
    RateLimiter<String> remote = RateLimiter.builder(Limit.perSecond(3)).name("remote").ticker(t)
        .store(flaky(down)).failureMode(mode).build();
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perMinute(2)))
        .plan("pro", Policy.of(Limit.perMinute(4)))
        .assign(material -> material.endsWith("k1") ? "pro" : "free")
        .build();
    return HttpLimiter.builder().ticker(t).key(KEY).exempt("/health")
        .rule(Rule.builder("burst", Limit.perSecond(2).withCapacity(3)).paths("/api/**")
            .permits(r -> r.path().equals("/api/big") ? 4 : 1).build())
        .rule(Rule.builder("minute", Limit.perMinute(10)).paths("/api/**", "/b").build())
        .rule(Rule.builder("shadow", Limit.perSecond(1)).paths("/api/**", "/b").shadow(true)
            .build())
        .rule(Rule.builder("login", Limit.perMinute(3)).paths("/login").chargeOn(401).build())
        .rule(Rule.builder("plans", plans).paths("/p/**").build())
        .rule(Rule.builder(remote).paths("/r", "/api/**").build())
        .build();
  }

  @Test
  void randomTimelines_decideAsyncGivesTheVerdictsOfDecide() {
    String[] paths = {"/api/x", "/api/big", "/b", "/login", "/p/x", "/health", "/other", "/r"};
    String[] keys = {"k1", "k2", null};
    for (FailureMode mode : FailureMode.values()) {
      for (int seed = 0; seed < 8; seed++) {
        Random random = new Random(seed);
        ManualTicker t = new ManualTicker(random.nextLong());
        AtomicBoolean downSync = new AtomicBoolean();
        AtomicBoolean downAsync = new AtomicBoolean();
        List<Verdict[]> pending = new ArrayList<>();
        try (HttpLimiter sync = twin(t, downSync, mode);
            HttpLimiter async = twin(t, downAsync, mode)) {
          for (int step = 0; step < 400; step++) {
            t.advance(Duration.ofMillis(random.nextInt(400)));
            if (random.nextInt(20) == 0) {
              boolean down = !downSync.get();
              downSync.set(down);
              downAsync.set(down);
            }
            String key = keys[random.nextInt(keys.length)];
            Req r = Req.get(paths[random.nextInt(paths.length)]);
            if (key != null) {
              r = r.header("X-Key", key);
            }
            Verdict expected = sync.decide(r);
            CompletableFuture<Verdict> stage = async.decideAsync(r).toCompletableFuture();
            assertThat(stage).as("in memory, complete on return").isDone();
            Verdict actual = stage.join();
            String where = mode + " seed " + seed + " step " + step + " " + r;
            assertThat(describe(actual)).as(where).isEqualTo(describe(expected));
            if (expected.allowed() && r.path().equals("/login")) {
              pending.add(new Verdict[] {expected, actual});
            }
            if (!pending.isEmpty() && random.nextBoolean()) {
              Verdict[] both = pending.remove(random.nextInt(pending.size()));
              int status = random.nextBoolean() ? 401 : 200;
              both[0].complete(status);
              assertThat(both[1].completeAsync(status).toCompletableFuture()).isDone();
            }
          }
        }
      }
    }
  }

  @Test
  void twoRules_storeAnswersLater_refusalWaitsForTheRefundThenGivesItBack() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - Duration.ofMinutes(5).toNanos());
    Deferred store = new Deferred();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t).store(store).key(KEY)
        .rule(Rule.builder("a", Limit.perMinute(5)).build())
        .rule(Rule.builder("b", Limit.perMinute(1)).build())
        .build()) {
      Req r = Req.get("/x").header("X-Key", "k");
      CompletableFuture<Verdict> first = limiter.decideAsync(r).toCompletableFuture();
      assertThat(first).as("waits for the store").isNotDone();
      assertThat(store.release()).as("both rules asked at once").isEqualTo(2);
      assertThat(first.join().allowed()).isTrue();

      CompletableFuture<Verdict> second = limiter.decideAsync(r).toCompletableFuture();
      assertThat(store.release()).isEqualTo(2);
      assertThat(second).as("b refused: a's refund is still out").isNotDone();
      assertThat(store.release()).as("one refund, a's").isEqualTo(1);
      Verdict refused = second.join();
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.rejection().orElseThrow().rules()).containsExactly("b");
      assertThat(limiter.availablePermits(r, "a")).as("a gave its permit back").hasValue(4);
    }
  }

  @Test
  void chargeOn_storeAnswersLater_completeAsyncWaitsForTheRefund() {
    ManualTicker t = new ManualTicker();
    Deferred store = new Deferred();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t).store(store).key(KEY)
        .rule(Rule.builder("login", Limit.perMinute(3)).chargeOn(401).build()).build()) {
      Req r = Req.get("/login").header("X-Key", "k");
      CompletableFuture<Verdict> v = limiter.decideAsync(r).toCompletableFuture();
      store.release();
      Verdict verdict = v.join();
      assertThat(limiter.availablePermits(r, "login")).hasValue(2);
      CompletableFuture<Void> settled = verdict.completeAsync(200).toCompletableFuture();
      assertThat(settled).isNotDone();
      assertThat(verdict.completeAsync(200).toCompletableFuture()).as("only the first acts")
          .isDone();
      assertThat(store.release()).isEqualTo(1);
      assertThat(settled).isDone();
      assertThat(limiter.availablePermits(r, "login")).as("a 200 is not charged").hasValue(3);
    }
  }

  /** What an adapter writes of a verdict, as text. */
  private static String describe(Verdict v) {
    StringBuilder b = new StringBuilder(v.toString());
    v.forEachHeader((n, value) -> b.append('\n').append(n).append(": ").append(value));
    v.rejection().ifPresent(r -> b.append('\n').append(r.status()).append(' ')
        .append(r.problemJson()));
    v.decision().ifPresent(d -> b.append('\n').append(d));
    return b.append('\n').append(v.shadowRefusals()).toString();
  }

  /** An in-memory store that cannot be reached while {@code down}. */
  private static RateStoreFactory flaky(AtomicBoolean down) {
    return new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        RateStore<K> inner = InMemoryStore.factory().create(name, policy, ticker);
        return new RateStore<>() {
          @Override
          public Decision decide(K key, Policy p, long permits) {
            if (down.get()) {
              throw new StoreUnavailableException("down");
            }
            return inner.decide(key, p, permits);
          }

          @Override
          public void refund(K key, Policy p, long permits, long heldNanos) {
            if (down.get()) {
              throw new StoreUnavailableException("down");
            }
            inner.refund(key, p, permits, heldNanos);
          }

          @Override
          public long availablePermits(K key, Policy p) {
            return inner.availablePermits(key, p);
          }

          @Override
          public long size() {
            return inner.size();
          }

          @Override
          public void close() {
            inner.close();
          }
        };
      }
    };
  }

  /**
   * An in-memory store whose asynchronous answers wait until the test releases them, as a
   * remote store's do until the reply arrives (the work is done when asked; only the answer
   * waits). Single-threaded test use.
   */
  private static final class Deferred implements RateStoreFactory {
    private final Deque<Runnable> waiting = new ArrayDeque<>();

    /** Completes the answers waiting now (not those they cause); returns how many. */
    int release() {
      int n = waiting.size();
      for (int i = 0; i < n; i++) {
        waiting.poll().run();
      }
      return n;
    }

    @Override
    public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
      RateStore<K> inner = InMemoryStore.factory().create(name, policy, ticker);
      return new RateStore<>() {
        @Override
        public Decision decide(K key, Policy p, long permits) {
          throw new AssertionError("the synchronous path was taken");
        }

        @Override
        public CompletionStage<Decision> decideAsync(K key, Policy p, long permits) {
          return later(inner.decide(key, p, permits));
        }

        @Override
        public CompletionStage<Void> refundAsync(K key, Policy p, long permits, long heldNanos) {
          inner.refund(key, p, permits, heldNanos);
          return later(null);
        }

        @Override
        public long availablePermits(K key, Policy p) {
          return inner.availablePermits(key, p);
        }

        @Override
        public long size() {
          return inner.size();
        }

        @Override
        public void close() {
          inner.close();
        }
      };
    }

    private <T> CompletionStage<T> later(T value) {
      CompletableFuture<T> f = new CompletableFuture<>();
      waiting.add(() -> f.complete(value));
      return f;
    }
  }
}
