package dev.sluice.webflux;

import dev.sluice.http.RequestView;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.RequestPath;
import org.springframework.http.server.reactive.ServerHttpRequest;

/**
 * A WebFlux request as the HTTP layer reads it, with the principal's name resolved beforehand
 * (WebFlux gives the principal asynchronously). Made per request; not thread-safe.
 */
final class ExchangeRequestView implements RequestView {

  /**
   * {@code HttpHeaders.get}: {@code get(String)} on Spring Framework 7, {@code get(Object)} (from
   * {@code Map}) on Spring 6, where {@code HttpHeaders} is a {@code MultiValueMap}. Both return the
   * header's values as sent (not split on commas, unlike {@code getValuesAsList}) and are
   * case-insensitive. Resolved once, so one jar runs on Spring Boot 4 and 3.5.
   */
  private static final MethodHandle GET = headerGetter();

  private final ServerHttpRequest request;
  private final String principal;

  ExchangeRequestView(ServerHttpRequest request, String principal) {
    this.request = request;
    this.principal = principal;
  }

  @Override
  public String method() {
    return request.getMethod().name();
  }

  /**
   * The path within the application, decoded and normalized as a servlet container does it:
   * each segment percent-decoded, path parameters ({@code ;a=b}) dropped, {@code .} and
   * {@code ..} segments resolved (never above the root). WebFlux leaves all of that to the
   * handlers, so without it {@code /api/%2e%2e/health} would pass for a path under {@code /api}.
   */
  @Override
  public String path() {
    return normalize(request.getPath());
  }

  static String normalize(RequestPath path) {
    PathContainer within = path.pathWithinApplication();
    String raw = within.value();
    if (raw.isEmpty()) {
      return "/";
    }
    if (plain(raw)) {
      return raw;
    }
    List<String> segments = new ArrayList<>();
    boolean trailingSlash = false;
    for (PathContainer.Element e : within.elements()) {
      if (e instanceof PathContainer.PathSegment s) {
        String v = s.valueToMatch();
        trailingSlash = false;
        if (v.equals(".")) {
          trailingSlash = true;
        } else if (v.equals("..")) {
          if (!segments.isEmpty()) {
            segments.remove(segments.size() - 1);
          }
          trailingSlash = true;
        } else {
          segments.add(v);
        }
      } else {
        trailingSlash = true;
      }
    }
    StringBuilder b = new StringBuilder(raw.length());
    for (String s : segments) {
      b.append('/').append(s);
    }
    if (b.length() == 0 || trailingSlash) {
      b.append('/');
    }
    return b.toString();
  }

  /** Whether {@code raw} needs no decoding nor normalizing: it starts with '/' and has no '%', ';', or dot segment. */
  private static boolean plain(String raw) {
    if (raw.charAt(0) != '/') {
      return false;
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%' || c == ';') {
        return false;
      }
      if (c == '.' && raw.charAt(i - 1) == '/') {
        int next = i + 1 < raw.length() ? raw.charAt(i + 1) : '/';
        if (next == '/' || (next == '.' && (i + 2 >= raw.length() || raw.charAt(i + 2) == '/'))) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  @SuppressWarnings("unchecked") // HttpHeaders.get's own type: List<String>
  public List<String> headers(String name) {
    List<String> values;
    try {
      values = (List<String>) GET.invokeExact(request.getHeaders(), name);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("HttpHeaders.get failed", e);
    }
    return values == null ? List.of() : values;
  }

  private static MethodHandle headerGetter() {
    MethodHandles.Lookup lookup = MethodHandles.publicLookup();
    MethodType wanted = MethodType.methodType(List.class, HttpHeaders.class, String.class);
    try {
      return lookup.findVirtual(HttpHeaders.class, "get",
          MethodType.methodType(List.class, String.class));
    } catch (NoSuchMethodException e) {
      try {
        return lookup.findVirtual(HttpHeaders.class, "get",
            MethodType.methodType(List.class, Object.class)).asType(wanted);
      } catch (NoSuchMethodException | IllegalAccessException again) {
        again.addSuppressed(e);
        throw new ExceptionInInitializerError(again);
      }
    } catch (IllegalAccessException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The peer's IP literal, read without a DNS lookup; its host string if unresolved. */
  @Override
  public String remoteAddress() {
    InetSocketAddress peer = request.getRemoteAddress();
    if (peer == null) {
      return null;
    }
    InetAddress a = peer.getAddress();
    return a != null ? a.getHostAddress() : peer.getHostString();
  }

  @Override
  public String principal() {
    return principal;
  }
}
