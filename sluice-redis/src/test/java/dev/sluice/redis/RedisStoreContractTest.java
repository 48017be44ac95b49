package dev.sluice.redis;

import dev.sluice.spi.contract.RateStoreContract;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * The shared store suite against a real standalone Redis. The script reads each case's
 * {@code ManualTicker} (a test-only clock argument) instead of {@code TIME}, so the cases run on
 * exact timelines; the deny cache reads the same ticker. Redis counts in microseconds.
 */
class RedisStoreContractTest extends RateStoreContract {

  private static RedisStore.Factory factory;

  @Override
  protected RateStoreFactory factory() {
    synchronized (RedisStoreContractTest.class) {
      if (factory == null) {
        factory = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(5))
            .clocks(TestClocks.tickers());
      }
      return factory;
    }
  }

  @Override
  protected Duration resolution() {
    return Duration.ofNanos(1_000);
  }

  @AfterAll
  static void close() {
    synchronized (RedisStoreContractTest.class) {
      if (factory != null) {
        factory.close();
        factory = null;
      }
    }
  }
}
