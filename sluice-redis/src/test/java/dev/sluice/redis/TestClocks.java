package dev.sluice.redis;

import dev.sluice.Ticker;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Caller-side clocks for the script ({@link RedisStore.Factory#clocks}), so that tests run exact
 * timelines instead of reading Redis's {@code TIME}.
 */
final class TestClocks {

  /** Where the tickers' timelines start, in the script's microseconds (about 11.6 days in). */
  static final long TICKER_ORIGIN_MICROS = 1_000_000_000_000L;

  private TestClocks() {}

  /**
   * Each store's script reads the ticker it was created with, in µs from its first reading
   * (rounded down), and the deny cache reads the same ticker: the two move together.
   */
  static Function<Ticker, Clocks> tickers() {
    return ticker -> {
      long origin = ticker.read();
      return new Clocks(
          () -> TICKER_ORIGIN_MICROS + Math.floorDiv(ticker.read() - origin, 1000L), ticker::read);
    };
  }

  /**
   * The script reads {@code micros} (µs since 2025-01-01); the deny cache reads
   * {@link System#nanoTime()}, so turn it off.
   */
  static Function<Ticker, Clocks> fixed(LongSupplier micros) {
    Clocks clocks = new Clocks(micros, System::nanoTime);
    return ticker -> clocks;
  }
}
