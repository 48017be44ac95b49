package dev.sluice.webflux;

import java.util.concurrent.Executor;
import org.springframework.http.server.reactive.AbstractServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.util.ClassUtils;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The event loop of an exchange's connection on Reactor Netty, where the filter resumes the
 * chain when a decision or a refund completes on another thread (a Lettuce I/O thread).
 *
 * <p>Why: Reactor Netty 1.3 (at least up to 1.3.6, which Boot 4.0.7 pairs) can lose a keep-alive
 * connection's next request when the previous exchange completes off the connection's event
 * loop: the client has the whole response and sends its next request before the previous
 * request's operations have terminated on the loop; that request is buffered ("previous ops not
 * yet terminated") and, in a race, never dispatched, so it gets no answer at all. Completing the
 * chain on the connection's own loop closes the window (the response is written, flushed and the
 * operations terminated in one task of the loop, before it reads again), and keeps the
 * application's handlers off the Redis client's I/O threads besides.
 *
 * <p>On other servers (or without Reactor Netty on the class path) there is no loop: the chain
 * goes on where the stage completed, as before.
 */
final class ConnectionLoop {

  private static final boolean REACTOR_NETTY = ClassUtils.isPresent("reactor.netty.Connection",
      ConnectionLoop.class.getClassLoader());

  /** Decorators unwrapped at most (a loop of decorators ends here). */
  private static final int MAX_DECORATORS = 64;

  private ConnectionLoop() {}

  /** A scheduler on {@code request}'s connection's event loop, or null if there is none. */
  static Scheduler of(ServerHttpRequest request) {
    if (!REACTOR_NETTY) {
      return null;
    }
    ServerHttpRequest r = request;
    for (int i = 0; i < MAX_DECORATORS && r instanceof ServerHttpRequestDecorator d; i++) {
      r = d.getDelegate();
    }
    if (!(r instanceof AbstractServerHttpRequest server)) {
      return null; // not a server's own request (a test double): no exception thrown to find out
    }
    Executor loop = Netty.loop(server.getNativeRequest());
    return loop == null ? null : Schedulers.fromExecutor(loop);
  }

  /** Touches Reactor Netty and Netty; loaded only when they are present. */
  private static final class Netty {

    static Executor loop(Object nativeRequest) {
      if (!(nativeRequest instanceof reactor.netty.Connection c)) {
        return null;
      }
      io.netty.channel.EventLoop loop = c.channel().eventLoop();
      // on the loop already (an in-memory decision, a deny-cache hit): go on at once, no task
      return task -> {
        if (loop.inEventLoop()) {
          task.run();
        } else {
          loop.execute(task);
        }
      };
    }
  }
}
