package dev.sluice;

import dev.sluice.spi.contract.RateStoreContract;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;

/**
 * The store contract against an in-memory store with a small key cap (no case uses more than
 * three keys per store) and a cleaner thread dropping full buckets every millisecond, its ticker
 * starting at {@code Long.MIN_VALUE}.
 */
class InMemoryStoreCappedContractTest extends RateStoreContract {

  @Override
  protected RateStoreFactory factory() {
    return InMemoryStore.factory().maxKeys(3).cleaner(Duration.ofMillis(1));
  }

  @Override
  protected long startNanos() {
    return Long.MIN_VALUE;
  }
}
