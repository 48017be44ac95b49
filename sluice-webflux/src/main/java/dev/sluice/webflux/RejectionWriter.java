package dev.sluice.webflux;

import dev.sluice.http.Rejection;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Writes the response for a refused request: status and body. The rate-limit headers (including
 * {@code Retry-After}) are already set when it runs. The default, {@link #problemJson()}, writes
 * the rejection's RFC 9457 problem with {@link Rejection#status()}: 429 over quota, 403 for a
 * missing key, 503 when the store cannot decide and the limiter fails closed.
 *
 * <p>A replacement must be thread-safe and must not block: it runs on the thread that completed
 * the decision (a Netty event loop, or the Redis client's I/O thread).
 */
@FunctionalInterface
public interface RejectionWriter {

  /**
   * Writes the refusal.
   *
   * @param exchange the refused exchange; its response is not committed
   * @param rejection why it was refused
   * @return completes when the response is written
   */
  Mono<Void> reject(ServerWebExchange exchange, Rejection rejection);

  /**
   * The default writer: {@link Rejection#status()}, {@code Cache-Control: no-store} and the
   * {@link Rejection#problemJson()} body as {@value Rejection#PROBLEM_JSON}.
   *
   * @return the writer
   */
  static RejectionWriter problemJson() {
    return (exchange, r) -> {
      byte[] body = r.problemJson().getBytes(StandardCharsets.UTF_8);
      ServerHttpResponse response = exchange.getResponse();
      response.setStatusCode(HttpStatusCode.valueOf(r.status()));
      HttpHeaders h = response.getHeaders();
      h.set(HttpHeaders.CONTENT_TYPE, Rejection.PROBLEM_JSON);
      h.set(HttpHeaders.CACHE_CONTROL, "no-store");
      h.setContentLength(body.length);
      DataBuffer buffer = response.bufferFactory().wrap(body);
      return response.writeWith(Mono.just(buffer));
    };
  }
}
