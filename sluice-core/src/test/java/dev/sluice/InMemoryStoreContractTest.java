package dev.sluice;

import dev.sluice.spi.contract.RateStoreContract;
import dev.sluice.spi.RateStoreFactory;

/**
 * The store contract against the default in-memory store. (In another package than the
 * contract on purpose: a store module extends it from its own package, as here.)
 */
class InMemoryStoreContractTest extends RateStoreContract {

  @Override
  protected RateStoreFactory factory() {
    return InMemoryStore.factory();
  }
}
