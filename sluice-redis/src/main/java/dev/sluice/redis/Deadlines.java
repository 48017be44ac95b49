package dev.sluice.redis;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The deadlines of asynchronous calls, enforced by one daemon thread per connection. Calls with
 * the same deadline expire in the order they were sent, so each deadline has a FIFO queue and
 * the thread only ever looks at the heads: a call costs one lock-free enqueue (no timer task, no
 * lock, no cancellation), and the thread sleeps until the earliest head is due, dropping the
 * calls that completed in time as it passes them.
 */
final class Deadlines {

  /** A call with a deadline. */
  interface Pending {
    /** When it expires, in {@link System#nanoTime()}. */
    long expiresAt();

    /** Whether it completed (in time or not); then it is just dropped. */
    boolean isDone();

    /** Fails it for missing the deadline. */
    void expire();
  }

  private final Map<Long, Queue<Pending>> queues = new ConcurrentHashMap<>();
  private final Thread reaper;
  private volatile boolean running = true;
  private volatile boolean parked;

  Deadlines() {
    reaper = new Thread(this::loop, "sluice-redis-deadlines");
    reaper.setDaemon(true);
    reaper.start();
  }

  /** Watches {@code p}, whose deadline is {@code deadlineNanos} after it was sent. */
  void add(long deadlineNanos, Pending p) {
    Queue<Pending> q = queues.get(deadlineNanos);
    if (q == null) {
      q = queues.computeIfAbsent(deadlineNanos, d -> new ConcurrentLinkedQueue<>());
    }
    q.offer(p);
    if (parked) {
      LockSupport.unpark(reaper);
    }
  }

  /** Stops the thread; calls still watched are left to complete by themselves. */
  void stop() {
    running = false;
    LockSupport.unpark(reaper);
  }

  private void loop() {
    while (running) {
      long wait = scan();
      if (wait == Long.MAX_VALUE) {
        parked = true;
        if (scan() == Long.MAX_VALUE && running) {
          LockSupport.park(this);
        }
        parked = false;
      } else {
        LockSupport.parkNanos(this, wait);
      }
    }
  }

  /** Expires what is due; returns the nanoseconds until the next head is due, or MAX_VALUE. */
  private long scan() {
    long next = Long.MAX_VALUE;
    for (Queue<Pending> q : queues.values()) {
      Pending p;
      while ((p = q.peek()) != null) {
        if (p.isDone()) {
          q.poll();
          continue;
        }
        long left = p.expiresAt() - System.nanoTime();
        if (left <= 0) {
          q.poll();
          p.expire();
          continue;
        }
        next = Math.min(next, left);
        break;
      }
    }
    return next;
  }
}
