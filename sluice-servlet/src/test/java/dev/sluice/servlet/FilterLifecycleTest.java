package dev.sluice.servlet;

import dev.sluice.http.*;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import org.junit.jupiter.api.Test;

/** Building and closing the filter. */
class FilterLifecycleTest {

  @Test
  void close_closesOwnedLimitersOnceAndNotThosePassedIn() throws Exception {
    RecordingStoreFactory store = new RecordingStoreFactory();
    RateLimiter<String> passedIn = RateLimiter.builder(Limit.perHour(5)).name("mine").build();
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("a", Limit.perHour(5)).build())
        .rule(Rule.builder("b", Limit.perHour(5)).build())
        .rule(Rule.builder(passedIn).build())
        .store(store).build();
    passedIn.tryAcquire("k");
    filter.destroy();
    filter.close();
    assertThat(store.closes.get()).isEqualTo(2);
    assertThat(passedIn.size()).isEqualTo(1);
    assertThat(passedIn.tryAcquire("k")).isTrue();
    passedIn.close();
  }

  @Test
  void build_invalidConfiguration_refusedWithTheValueNamed() {
    assertThatThrownBy(() -> RateLimitFilter.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least one rule");
    assertThatThrownBy(() -> RateLimitFilter.builder().limit(Limit.perSecond(1))
        .limit(Limit.perSecond(2)).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("\"default\"");
    RateLimiter<String> shared = RateLimiter.builder(Limit.perHour(5)).name("s").build();
    assertThatThrownBy(() -> RateLimitFilter.builder().rule(Rule.builder(shared).build())
        .rule(Rule.builder(shared).build()).build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> Rule.builder("bad name", Limit.perSecond(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"bad name\"")
        .hasMessageContaining("[A-Za-z0-9._-]");
    assertThatThrownBy(() -> Rule.builder("r", Limit.perSecond(1)).permits(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("permits (0)");
    assertThatThrownBy(() -> Rule.builder("r", Limit.perSecond(1)).paths("api"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"api\"");
    assertThatThrownBy(() -> Rule.builder("r", Limit.perSecond(1)).methods("GET /"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyResolver.header("X API Key"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"X API Key\"");
    assertThatThrownBy(() -> RateLimitFilter.builder().limit(Limit.perSecond(1)).build()
        .availablePermits(null, "x")).isInstanceOf(NullPointerException.class);
  }
}
