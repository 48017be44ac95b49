package dev.sluice;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Completes asynchronous acquires at their due instants: one priority queue ordered by due
 * instant (ties in the order they were scheduled) and one daemon thread, {@code sluice-scheduler},
 * started with the first waiter and shared by every bucket and limiter of the JVM, so waiters cost
 * a queue entry each, never a thread. The thread sleeps until the earliest due instant (woken
 * early when an earlier one arrives), completes every due waiter in order, and sleeps again.
 *
 * <p>Its clock is the system ticker. A reservation on another ticker is scheduled by the wait it
 * has left on its own ticker, and checked again on it when that wait is over: if its ticker has
 * not reached the due instant yet, it is put back for the rest, so no waiter completes early by
 * the ticker of its bucket.
 *
 * <p>Waiters are completed on the scheduler's thread: dependent stages registered with the
 * non-async methods run there and delay the waiters after them (use the {@code *Async} forms for
 * anything slow). Tests build their own scheduler on a {@link ManualTicker}, either without a
 * thread (they call {@link #runDue()}) or with one that looks at the clock every
 * {@code maxParkNanos} of real time.
 */
final class Scheduler {

  private static final Comparator<Task> ORDER = (a, b) -> {
    long d = a.fireAt - b.fireAt;
    return d != 0 ? (d < 0 ? -1 : 1) : Long.compare(a.seq, b.seq);
  };

  /** One waiter: complete {@code future} at {@code fireAt} on the clock. */
  private static final class Task {
    final long fireAt;
    final long seq;
    final Reservation reservation;
    final CompletableFuture<Boolean> future;

    Task(long fireAt, long seq, Reservation reservation, CompletableFuture<Boolean> future) {
      this.fireAt = fireAt;
      this.seq = seq;
      this.reservation = reservation;
      this.future = future;
    }
  }

  /** The JVM's scheduler, created on first use. */
  private static final class Shared {
    static final Scheduler INSTANCE =
        new Scheduler(Ticker.system(), Long.MAX_VALUE, "sluice-scheduler", true);
  }

  private final Ticker clock;
  private final long maxParkNanos;
  private final String threadName;
  private final boolean threaded;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final PriorityQueue<Task> queue = new PriorityQueue<>(ORDER);
  private long seq;
  private Thread thread;
  private volatile boolean stopped;

  private Scheduler(Ticker clock, long maxParkNanos, String threadName, boolean threaded) {
    this.clock = clock;
    this.maxParkNanos = maxParkNanos;
    this.threadName = threadName;
    this.threaded = threaded;
  }

  /** The shared scheduler on the system ticker. */
  static Scheduler shared() {
    return Shared.INSTANCE;
  }

  /** For tests: a scheduler with no thread; the test calls {@link #runDue()}. */
  static Scheduler manual(Ticker clock) {
    return new Scheduler(clock, 0, null, false);
  }

  /** For tests: a scheduler with its own thread, re-reading the clock every {@code maxParkNanos}. */
  static Scheduler threaded(Ticker clock, long maxParkNanos, String threadName) {
    return new Scheduler(clock, maxParkNanos, threadName, true);
  }

  /** A future completed with true when {@code r} (granted, not yet due) is due. */
  CompletableFuture<Boolean> schedule(Reservation r) {
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    enqueue(r, f, r.ticker() == clock ? r.due() : clock.read() + (r.due() - r.ticker().read()));
    return f;
  }

  private void enqueue(Reservation r, CompletableFuture<Boolean> f, long fireAt) {
    lock.lock();
    try {
      Task t = new Task(fireAt, seq++, r, f);
      queue.add(t);
      if (queue.peek() == t) {
        changed.signal();
      }
      if (threaded && thread == null) {
        Thread th = new Thread(this::loop, threadName);
        th.setDaemon(true);
        th.start();
        thread = th;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waiters scheduled and not completed yet (cancelled ones included until their instant). */
  int pending() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Completes every waiter due at the clock's reading, in due order, on the calling thread.
   *
   * @return waiters completed (or found cancelled)
   */
  int runDue() {
    List<Task> due = new ArrayList<>();
    lock.lock();
    try {
      long now = clock.read();
      for (Task head = queue.peek(); head != null && head.fireAt - now <= 0; head = queue.peek()) {
        due.add(queue.poll());
      }
    } finally {
      lock.unlock();
    }
    int done = 0;
    for (Task t : due) {
      Reservation r = t.reservation;
      if (r.ticker() != clock && !t.future.isDone()) {
        long left = r.due() - r.ticker().read();
        if (left > 0) {
          enqueue(r, t.future, clock.read() + left); // its ticker is slower: not due there yet
          continue;
        }
      }
      t.future.complete(true);
      done++;
    }
    return done;
  }

  /** For tests: ends the thread of a scheduler made by {@link #threaded}; waiters left stay pending. */
  void shutdown() {
    stopped = true;
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    while (!stopped) {
      lock.lock();
      try {
        for (;;) {
          if (stopped) {
            return;
          }
          Task head = queue.peek();
          if (head == null) {
            changed.await();
            continue;
          }
          long wait = head.fireAt - clock.read();
          if (wait <= 0) {
            break;
          }
          changed.awaitNanos(Math.min(wait, maxParkNanos));
        }
      } catch (InterruptedException e) {
        // nobody interrupts this thread; if someone does, carry on: waiters depend on it
      } finally {
        lock.unlock();
      }
      runDue();
    }
  }
}
