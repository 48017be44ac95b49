package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Fail-open (or any failure mode answering) is visible without metrics: one WARNING line per
 * limiter per interval, however many answers, with the count of those not logged; on a frozen
 * clock and from many threads. Through a real limiter and the JDK's logger: redis ›
 * {@code FailureLogRedisTest} (core's tests run as a module that does not read java.logging).
 */
class FailureLogTest {

  /** A {@link System.Logger} that keeps what it is given. */
  static final class Recording implements System.Logger {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public String getName() {
      return "recording";
    }

    @Override
    public boolean isLoggable(Level level) {
      return true;
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
      lines.add(level + " " + msg);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
      lines.add(level + " " + format);
    }
  }

  @Test
  void failed_manyTimesInOneInterval_oneLineThenOneMoreCountingTheRest() {
    Recording logger = new Recording();
    ManualTicker clock = new ManualTicker(Long.MAX_VALUE - 5);
    FailureLog log = new FailureLog("api", FailureMode.OPEN, logger, clock::read, 1_000);
    for (int i = 0; i < 1_000; i++) {
      log.failed(new IllegalStateException("down"));
    }
    assertThat(logger.lines).hasSize(1);
    assertThat(logger.lines.get(0)).startsWith("WARNING ").contains("api", "OPEN", "down")
        .doesNotContain("more answers");
    clock.advance(999);
    log.failed(new IllegalStateException("down"));
    assertThat(logger.lines).as("one nanosecond before the interval ends").hasSize(1);
    clock.advance(1);
    log.failed(new IllegalStateException("still down"));
    assertThat(logger.lines).hasSize(2);
    assertThat(logger.lines.get(1)).contains("still down", "(1000 more answers since the last line)");
  }

  @Test
  void failed_manyThreadsFrozenClock_exactlyOneLine() throws Exception {
    Recording logger = new Recording();
    ManualTicker clock = new ManualTicker(42);
    FailureLog log = new FailureLog("api", FailureMode.CLOSED, logger, clock::read, 1_000);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          log.failed(new IllegalStateException("down"));
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertThat(logger.lines).hasSize(1);
  }
}
