package dev.sluice.servlet;

import dev.sluice.http.*;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many concurrent clients on one key, over real HTTP, with the clock frozen: exactly the capacity
 * is admitted; with two overlapping rules, every permit taken belongs to an admitted request.
 */
class ConcurrencyHttpTest {

  private static final int THREADS = 8;
  private static final int PER_THREAD = 25;

  @Test
  void manyThreadsOneKey_frozenClock_admittedEqualsCapacity() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().limit(Limit.perHour(50))
        .exempt("/_available/**").ticker(new ManualTicker()).build();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    try (TestServer server = TestServer.start(filter)) {
      run(() -> {
        int s = server.get("/hello").statusCode();
        (s == 200 ? ok : s == 429 ? refused : new AtomicInteger()).incrementAndGet();
      });
      assertThat(ok.get()).isEqualTo(50);
      assertThat(refused.get()).isEqualTo(THREADS * PER_THREAD - 50);
      assertThat(server.available("default")).isZero();
    }
  }

  @Test
  void manyThreadsTwoOverlappingRules_noPermitTakenForARefusedRequest() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", Limit.perHour(40)).paths("/api/**").build())
        .rule(Rule.builder("expensive", Limit.perHour(15)).paths("/api/expensive").build())
        // the lock's promise (no request of this node sees permits about to be given back) with
        // a lock wait no preemption of a holder outlasts on a loaded machine
        .lockWait(Duration.ofSeconds(60))
        .ticker(new ManualTicker()).build();
    AtomicInteger cheap = new AtomicInteger();
    AtomicInteger expensive = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    try (TestServer server = TestServer.start(filter)) {
      run(() -> {
        boolean isExpensive = calls.incrementAndGet() % 2 == 0;
        int s = server.get(isExpensive ? "/api/expensive" : "/api/cheap").statusCode();
        assertThat(s).isIn(200, 429);
        if (s == 200) {
          (isExpensive ? expensive : cheap).incrementAndGet();
        }
      });
      // 100 cheap requests alone could drain "api", so it ends empty; a leak (a permit of "api"
      // taken by a request "expensive" refused) would leave fewer than 40 admitted in total
      assertThat(server.available("api")).isZero();
      assertThat(cheap.get() + expensive.get()).isEqualTo(40);
      assertThat(expensive.get()).isEqualTo(15 - server.available("expensive"));
    }
  }

  private interface Call {
    void run() throws Exception;
  }

  private static void run(Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        futures.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < PER_THREAD; i++) {
            call.run();
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
