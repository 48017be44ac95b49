package dev.sluice.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.Rule;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The scenarios over the in-memory store, and the failure modes over a store that goes down. */
class InMemoryWebFilterTest extends WebFilterScenarios {

  @Override
  RateStoreFactory store() {
    return InMemoryStore.factory();
  }

  @Override
  boolean exactRefunds() {
    return true;
  }

  @Test
  void storeDown_failClosed503_failOpenPassesWithoutHeaders() {
    AtomicBoolean down = new AtomicBoolean();
    try (RateLimiter<String> closed = RateLimiter.builder(Limit.perHour(5)).name("closed")
            .store(switchable(down)).failureMode(FailureMode.CLOSED).build();
        RateLimiter<String> open = RateLimiter.builder(Limit.perHour(5)).name("open")
            .store(switchable(down)).failureMode(FailureMode.OPEN).build();
        HttpLimiter limiter = HttpLimiter.builder().key(KEY)
            .rule(Rule.builder(closed).paths("/c").build())
            .rule(Rule.builder(open).paths("/o").build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      assertThat(server.get("/c", "X-Key", k).statusCode()).isEqualTo(200);
      down.set(true);
      HttpResponse<String> unavailable = server.get("/c", "X-Key", k);
      assertThat(unavailable.statusCode()).isEqualTo(503);
      assertThat(unavailable.headers().firstValue("Content-Type"))
          .hasValue("application/problem+json");
      assertThat(unavailable.headers().firstValue("Retry-After")).isEmpty();
      assertThat(unavailable.headers().firstValue("X-RateLimit-Remaining")).isEmpty();
      HttpResponse<String> passed = server.get("/o", "X-Key", k);
      assertThat(passed.statusCode()).isEqualTo(200);
      assertThat(passed.headers().firstValue("X-RateLimit-Remaining")).isEmpty();
      down.set(false);
      assertThat(server.get("/c", "X-Key", k).headers().firstValue("X-RateLimit-Remaining"))
          .hasValue("3");
    }
  }

  @Test
  void twoFilters_secondPassesThrough_countedOnce() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("api", Limit.perHour(3)).build()).build()) {
      RateLimitWebFilter filter = RateLimitWebFilter.builder(limiter).order(-5).build();
      assertThat(filter.getOrder()).isEqualTo(-5);
      try (TestServer server = TestServer.start(filter, filter)) {
        assertThat(server.get("/x", "X-Key", key()).headers().firstValue("X-RateLimit-Remaining"))
            .hasValue("2");
      }
    }
  }

  @Test
  void customRejectionWriter_writesTheRefusal() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("api", Limit.perHour(1)).build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter)
            .rejectionWriter((exchange, r) -> {
              exchange.getResponse().setStatusCode(
                  org.springframework.http.HttpStatus.SERVICE_UNAVAILABLE);
              exchange.getResponse().getHeaders().set("X-Why", r.reason().name());
              return exchange.getResponse().setComplete();
            }).build())) {
      String k = key();
      server.get("/x", "X-Key", k);
      HttpResponse<String> r = server.get("/x", "X-Key", k);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("X-Why")).hasValue("QUOTA_EXCEEDED");
      assertThat(r.headers().firstValue("Retry-After")).as("headers set before the writer")
          .isPresent();
    }
  }

  /** An in-memory store that cannot be reached while {@code down}. */
  /** A rule that would queue is refused when the filter is built, naming it: no silent drop. */
  @Test
  void ruleWithAWait_refusedAtBuild_namingTheRuleAndTheWait() {
    try (HttpLimiter waiting = HttpLimiter.builder()
        .rule(Rule.builder("queued", Limit.perSecond(10)).maxWait(Duration.ofMillis(500)).build())
        .build()) {
      assertThatThrownBy(() -> RateLimitWebFilter.builder(waiting).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("rule \"queued\" waits up to PT0.5S")
          .hasMessageContaining("does not queue");
    }
  }

  static RateStoreFactory switchable(AtomicBoolean down) {
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
}
