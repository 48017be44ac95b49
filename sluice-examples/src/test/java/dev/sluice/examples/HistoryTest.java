package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ManualTicker;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link History} at fixed instants of a manual ticker, started at several instants, one of them
 * wrapping past {@code Long.MAX_VALUE} during the test.
 */
class HistoryTest {

  private static final long[] STARTS = {0L, 1_234_567_891L, -5_000_000_001L,
      Long.MAX_VALUE - 30_000_000_000L, Long.MIN_VALUE + 1};

  private static History.Snapshot of(History h, String key) {
    return h.snapshot(Optional.of(key));
  }

  @Test
  void record_countsPerSecond_currentSecondLast_olderSecondsShiftLeft() {
    for (long start : STARTS) {
      ManualTicker t = new ManualTicker(start);
      History h = new History(t, 10);
      h.record("ip:127.0.0.1", true);
      h.record("ip:127.0.0.1", true);
      h.record("ip:127.0.0.1", false);
      t.advance(Duration.ofSeconds(1));
      h.record("ip:127.0.0.1", false);
      History.Snapshot s = of(h, "ip:127.0.0.1");
      assertThat(s.allowed(0)).as("start %d", start).isZero();
      assertThat(s.denied(0)).isEqualTo(1);
      assertThat(s.allowed(1) + s.allowed(0) + s.denied(1) + s.denied(0)).isEqualTo(4);
      t.advance(Duration.ofSeconds(58));
      s = of(h, "ip:127.0.0.1");
      assertThat(s.denied(58)).as("59 seconds ago is still shown").isEqualTo(1);
      assertThat(s.allowed(59) + s.denied(59)).isEqualTo(3);
      t.advance(Duration.ofSeconds(1));
      s = of(h, "ip:127.0.0.1");
      assertThat(s.denied(59)).isEqualTo(1);
      assertThat(s.json()).isEqualTo("{\"seconds\":60,\"allowed\":[" + "0,".repeat(59) + "0],"
          + "\"denied\":[1," + "0,".repeat(58) + "0]}");
      t.advance(Duration.ofSeconds(1));
      assertThat(of(h, "ip:127.0.0.1").json()).as("past 60 s, nothing is left")
          .isEqualTo("{\"seconds\":60,\"allowed\":[" + "0,".repeat(59) + "0],"
              + "\"denied\":[" + "0,".repeat(59) + "0]}");
    }
  }

  @Test
  void record_afterALongIdle_oldCountsNeverReappear() {
    ManualTicker t = new ManualTicker(7_000_000_000L);
    History h = new History(t, 10);
    for (int i = 0; i < 60; i++) {
      h.record("k", true);
      t.advance(Duration.ofSeconds(1));
    }
    t.advance(Duration.ofSeconds(61)); // exactly a whole ring and one second later
    h.record("k", false);
    History.Snapshot s = of(h, "k");
    assertThat(s.denied(0)).isEqualTo(1);
    for (int i = 0; i < History.SECONDS; i++) {
      assertThat(s.allowed(i)).as("%d s ago", i).isZero();
    }
  }

  @Test
  void record_tickerGoingBackwards_countsIntoTheLatestSecondSeen() {
    ManualTicker t = new ManualTicker(10_000_000_000L);
    History h = new History(t, 10);
    h.record("k", true);
    t.advance(Duration.ofSeconds(-5));
    h.record("k", true);
    History.Snapshot s = of(h, "k");
    assertThat(s.allowed(0)).isEqualTo(2);
    t.advance(Duration.ofSeconds(6));
    assertThat(of(h, "k").allowed(1)).isEqualTo(2);
  }

  @Test
  void keys_areSeparate_unknownKeyAndNoKeyAreAllZeros() {
    History h = new History(new ManualTicker(), 10);
    h.record("a", true);
    assertThat(of(h, "a").allowed(0)).isEqualTo(1);
    assertThat(of(h, "b").allowed(0)).isZero();
    assertThat(h.snapshot(Optional.empty()).allowed(0)).isZero();
  }

  @Test
  void moreKeysThanTheCap_atMostTheCapKept_leastRecentlyUsedDroppedFirst() {
    ManualTicker t = new ManualTicker();
    History h = new History(t, 3);
    h.record("a", true);
    h.record("b", true);
    h.record("c", true);
    h.record("a", false); // a is now the most recent; b the least
    h.record("d", true);
    assertThat(h.size()).isEqualTo(3);
    assertThat(of(h, "b").allowed(0)).as("b was dropped").isZero();
    assertThat(of(h, "a").denied(0)).isEqualTo(1);
    for (int i = 0; i < 10_000; i++) {
      h.record("flood-" + i, false);
      assertThat(h.size()).isLessThanOrEqualTo(3);
    }
    assertThat(h.size()).isEqualTo(3);
    assertThat(of(h, "flood-9999").denied(0)).isEqualTo(1);
    assertThat(of(h, "a").denied(0)).isZero();
  }
}
