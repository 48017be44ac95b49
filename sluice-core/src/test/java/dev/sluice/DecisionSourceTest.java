package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link Decision#fromDenyCache()}: a refusal keeps every count and says who answered it. */
class DecisionSourceTest {

  private static final Policy POLICY = Policy.of(Limit.of(5, Duration.ofSeconds(1)));

  @Test
  void fromDenyCache_keepsTheRefusalsCounts_sourceDenyCache() {
    Decision refusal = Decision.denied(POLICY, 0, 0, 200_000_000L, 1_000_000_000L);
    Decision cached = refusal.fromDenyCache();
    assertThat(cached.source()).isEqualTo(Decision.Source.DENY_CACHE);
    assertThat(cached.allowed()).isFalse();
    assertThat(cached.remaining()).isEqualTo(refusal.remaining());
    assertThat(cached.retryAfterNanos()).isEqualTo(refusal.retryAfterNanos());
    assertThat(cached.resetAfterNanos()).isEqualTo(refusal.resetAfterNanos());
    assertThat(cached.limit()).isEqualTo(refusal.limit());
    assertThat(cached.bindingIndex()).isEqualTo(refusal.bindingIndex());
    assertThat(cached.canEverSucceed()).isTrue();
    assertThat(cached.toString()).contains("DENY_CACHE");
  }

  @Test
  void fromDenyCache_ofAnAdmission_isAnError() {
    Decision admitted = Decision.allowed(POLICY, 0, 4, 200_000_000L);
    assertThatThrownBy(admitted::fromDenyCache).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("refusals only");
  }
}
