package dev.sluice.servlet;

import dev.sluice.http.*;

import dev.sluice.Decision;
import dev.sluice.InMemoryStore;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real in-memory store, recording every key it is handed and every close: lets a test see
 * exactly what reaches a store.
 */
final class RecordingStoreFactory implements RateStoreFactory {

  final List<Object> keys = new CopyOnWriteArrayList<>();
  final AtomicInteger closes = new AtomicInteger();

  @Override
  public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
    RateStore<K> real = InMemoryStore.factory().create(name, policy, ticker);
    return new RateStore<K>() {
      @Override
      public Decision decide(K key, Policy policy, long permits) {
        keys.add(key);
        return real.decide(key, policy, permits);
      }

      @Override
      public long availablePermits(K key, Policy policy) {
        keys.add(key);
        return real.availablePermits(key, policy);
      }

      @Override
      public long size() {
        return real.size();
      }

      @Override
      public void close() {
        closes.incrementAndGet();
        real.close();
      }
    };
  }
}
