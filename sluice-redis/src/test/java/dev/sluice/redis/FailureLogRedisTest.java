package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The failure mode answering is visible without metrics: a limiter over a Redis that cannot be
 * reached logs one WARNING through the JDK's logger ({@code dev.sluice.RateLimiter}, which
 * {@link System.Logger} sends to {@code java.util.logging} here), naming the limiter, the mode and
 * the failure, however many answers the mode gives within the interval (one minute).
 */
class FailureLogRedisTest {

  @Test
  void unreachableRedis_eachMode_oneWarningPerLimiterNotOnePerAnswer() throws IOException {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    Logger jul = Logger.getLogger(RateLimiter.class.getName());
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        records.add(record);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    jul.addHandler(handler);
    try {
      for (FailureMode mode : FailureMode.values()) {
        RedisStore.Factory factory = RedisStore.factory("redis://127.0.0.1:" + deadPort)
            .deadline(Duration.ofMillis(50));
        RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2))
            .name("logged-" + mode).store(factory).failureMode(mode).build();
        for (int i = 0; i < 500; i++) {
          assertThat(limiter.decide("k" + i, 1).source()).isNotEqualTo(Decision.Source.STORE);
        }
        limiter.decideAsync("async", 1).toCompletableFuture().join();
        limiter.close();
        factory.close();
      }
    } finally {
      jul.removeHandler(handler);
    }
    assertThat(records).hasSize(FailureMode.values().length);
    for (int i = 0; i < records.size(); i++) {
      LogRecord r = records.get(i);
      assertThat(r.getLevel()).isEqualTo(Level.WARNING);
      assertThat(r.getMessage()).contains("logged-" + FailureMode.values()[i],
          "failure mode " + FailureMode.values()[i].name(), "Redis");
    }
  }
}
