package dev.sluice.gateway;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service behind the gateway: a JDK HTTP server on 127.0.0.1 that answers 200 to everything
 * and counts the requests that reached it, by path and {@code X-Client} header.
 */
final class Backend implements AutoCloseable {

  private final HttpServer server;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  private Backend(HttpServer server) {
    this.server = server;
  }

  static Backend start() {
    try {
      HttpServer server = HttpServer.create(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      Backend b = new Backend(server);
      server.createContext("/", exchange -> {
        String path = exchange.getRequestURI().getPath();
        String client = exchange.getRequestHeaders().getFirst("X-Client");
        b.hits.computeIfAbsent(path + " " + client, k -> new AtomicInteger()).incrementAndGet();
        byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      });
      server.start();
      return b;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  String uri() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Requests that reached the backend at {@code path} for {@code client}. */
  int hits(String path, String client) {
    AtomicInteger n = hits.get(path + " " + client);
    return n == null ? 0 : n.get();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
