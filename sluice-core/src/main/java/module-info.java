/**
 * Sluice core: an exact, lock-free token-bucket rate limiter.
 *
 * <p>{@link dev.sluice} holds the API ({@link dev.sluice.Limit}, {@link dev.sluice.Policy},
 * {@link dev.sluice.TokenBucket}, {@link dev.sluice.RateLimiter}, {@link dev.sluice.Decision},
 * {@link dev.sluice.Ticker}); {@link dev.sluice.spi} holds the storage SPI. Everything else is
 * internal and not exported.
 */
module dev.sluice.core {
  exports dev.sluice;
  exports dev.sluice.spi;
}
