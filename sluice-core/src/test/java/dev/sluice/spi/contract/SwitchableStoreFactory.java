package dev.sluice.spi.contract;

import dev.sluice.Decision;
import dev.sluice.InMemoryStore;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * For tests of what happens when a store is down: the real {@link InMemoryStore} behind a switch.
 * While {@link #down()} is set, {@code decide} and {@code availablePermits} throw
 * {@link StoreUnavailableException} and {@code decideAsync} fails with it, as an unreachable
 * backend would. Every call is counted ({@link #calls()}). Shipped in {@code sluice-core}'s
 * test-jar for the modules that test failure modes.
 */
public final class SwitchableStoreFactory implements RateStoreFactory {

  private final AtomicBoolean down = new AtomicBoolean();
  private final AtomicInteger calls = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong stateLosses =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong liveNodes =
      new java.util.concurrent.atomic.AtomicLong(1);
  private final long size;
  private final Object bugKey;

  private SwitchableStoreFactory(long size, Object bugKey) {
    this.size = size;
    this.bugKey = bugKey;
  }

  /**
   * A switchable store that reports its real size.
   *
   * @return the factory, up
   */
  public static SwitchableStoreFactory create() {
    return new SwitchableStoreFactory(0, null);
  }

  /**
   * This factory's stores report {@code -1} from {@code size()}: a store that cannot count keys.
   *
   * @return a new factory, up
   */
  public SwitchableStoreFactory uncounted() {
    return new SwitchableStoreFactory(-1, bugKey);
  }

  /**
   * This factory's stores fail {@code decideAsync} for {@code key} with an
   * {@link IllegalStateException}: a bug, not an outage.
   *
   * @param key the key that fails
   * @return a new factory, up
   */
  public SwitchableStoreFactory withBugOn(Object key) {
    return new SwitchableStoreFactory(size, key);
  }

  /**
   * The switch: set means the backend is unreachable.
   *
   * @return the switch
   */
  public AtomicBoolean down() {
    return down;
  }

  /**
   * What this factory's stores report from {@code stateLosses()}: set it to simulate losses.
   *
   * @return the count
   */
  public java.util.concurrent.atomic.AtomicLong stateLosses() {
    return stateLosses;
  }

  /**
   * What this factory's stores report from {@code liveNodes()}: set it to simulate a fleet.
   *
   * @return the count, 1 at first
   */
  public java.util.concurrent.atomic.AtomicLong liveNodes() {
    return liveNodes;
  }

  /**
   * Calls that reached a store of this factory.
   *
   * @return the count
   */
  public int calls() {
    return calls.get();
  }

  @Override
  public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
    RateStore<K> real = InMemoryStore.factory().create(name, policy, ticker);
    return new RateStore<>() {
      @Override
      public Decision decide(K key, Policy policy, long permits) {
        calls.incrementAndGet();
        if (down.get()) {
          throw new StoreUnavailableException("backend down");
        }
        return real.decide(key, policy, permits);
      }

      @Override
      public CompletionStage<Decision> decideAsync(K key, Policy policy, long permits) {
        calls.incrementAndGet();
        if (bugKey != null && bugKey.equals(key)) {
          return CompletableFuture.failedFuture(new IllegalStateException("a bug, not an outage"));
        }
        if (down.get()) {
          return CompletableFuture.failedFuture(new StoreUnavailableException("timeout"));
        }
        return CompletableFuture.completedFuture(real.decide(key, policy, permits));
      }

      @Override
      public long availablePermits(K key, Policy policy) {
        calls.incrementAndGet();
        if (down.get()) {
          throw new StoreUnavailableException("backend down");
        }
        return real.availablePermits(key, policy);
      }

      @Override
      public void refund(K key, Policy policy, long permits, long heldNanos) {
        calls.incrementAndGet();
        if (down.get()) {
          throw new StoreUnavailableException("backend down");
        }
        real.refund(key, policy, permits, heldNanos);
      }

      @Override
      public long size() {
        return size < 0 ? size : real.size();
      }

      @Override
      public long liveNodes() {
        return liveNodes.get();
      }

      @Override
      public long stateLosses() {
        return stateLosses.get();
      }

      @Override
      public void close() {
        real.close();
      }
    };
  }
}
