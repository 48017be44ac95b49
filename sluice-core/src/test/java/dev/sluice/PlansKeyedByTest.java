package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Plans#keyedBy}: the same plans for another key type, shared live. */
class PlansKeyedByTest {

  @Test
  void keyedBy_assignsThroughTheFunction_andSharesUpdatesBothWays() {
    Plans<String> byName = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perHour(2)))
        .plan("pro", Policy.of(Limit.perHour(5)))
        .assign(name -> name.startsWith("pro-") ? "pro" : "free")
        .build();
    Map<Integer, String> names = Map.of(1, "free-a", 2, "pro-b");
    Plans<Integer> byId = byName.keyedBy(names::get);
    assertThat(byId.policyFor(1)).isEqualTo(Policy.of(Limit.perHour(2)));
    assertThat(byId.policyFor(2)).isEqualTo(Policy.of(Limit.perHour(5)));

    byName.update("pro", Policy.of(Limit.perHour(9)));
    assertThat(byId.policyFor(2)).isEqualTo(Policy.of(Limit.perHour(9)));
    byId.update("free", Policy.of(Limit.perHour(3)));
    assertThat(byName.policyFor("free-x")).isEqualTo(Policy.of(Limit.perHour(3)));
    assertThat(byId.plans()).isEqualTo(byName.plans());

    ManualTicker t = new ManualTicker();
    try (RateLimiter<Integer> limiter = RateLimiter.builder(byId).ticker(t).build()) {
      int admitted = 0;
      while (limiter.tryAcquire(1)) {
        admitted++;
      }
      assertThat(admitted).isEqualTo(3);
    }
    assertThatThrownBy(() -> byName.keyedBy(null)).isInstanceOf(NullPointerException.class);
  }
}
