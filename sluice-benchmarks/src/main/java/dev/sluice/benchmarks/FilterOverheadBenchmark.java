package dev.sluice.benchmarks;

import dev.sluice.Limit;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.KeyResolver;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.http.Rule;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What {@link RateLimitFilter} adds to a request: resolve the key (and hash it), decide, write the
 * headers; beside a pass-through filter that only calls the chain. No server and no sockets: the
 * request and response are the lean, hand-written {@link Request} and {@link Response} below (a
 * benchmark harness, not a test double: a header map, an attribute map, a discarding body), so
 * the difference between {@code filter=passThrough} and the others is the filter's own cost.
 *
 * <ul>
 *   <li>{@code passThrough}: a filter that calls the chain;</li>
 *   <li>{@code ip}: one rule, key = client IP (socket peer), every header group, always
 *       admitted (10^9 per second);</li>
 *   <li>{@code ipNoHeaders}: the same, no headers written: the cost of the header writer is the
 *       difference;</li>
 *   <li>{@code apiKey}: one rule, key = {@code X-API-Key} header;</li>
 *   <li>{@code twoRules}: two rules on the request, all-or-nothing (striped lock, two checks,
 *       two decisions);</li>
 *   <li>{@code denied}: one rule whose bucket is empty: decision, headers, {@code Retry-After} and
 *       the 429 problem body.</li>
 * </ul>
 *
 * <p>Run (from the repository root, after {@code mvn -q -pl sluice-benchmarks -am package -Pquick}):
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar FilterOverheadBenchmark -t 1
 * java -jar sluice-benchmarks/target/benchmarks.jar FilterOverheadBenchmark -t 1 -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Thread)
public class FilterOverheadBenchmark {

  /** Which filter sits in front of the chain. */
  @Param({"passThrough", "ip", "ipNoHeaders", "apiKey", "twoRules", "denied"})
  public String filter;

  Filter target;
  Request request;
  Response response;
  FilterChain chain;

  /**
   * Builds the filter under test and the request/response pair.
   *
   * @param bh consumes the request in the chain
   * @throws Exception never
   */
  @Setup(Level.Trial)
  public void setUp(Blackhole bh) throws Exception {
    Limit never = Limit.of(1_000_000_000L, java.time.Duration.ofSeconds(1));
    switch (filter) {
      case "passThrough":
        target = (req, res, ch) -> ch.doFilter(req, res);
        break;
      case "ip":
        target = RateLimitFilter.builder().limit(never).build();
        break;
      case "ipNoHeaders":
        target = RateLimitFilter.builder().limit(never).headers().build();
        break;
      case "apiKey":
        target = RateLimitFilter.builder().limit(never).key(KeyResolver.header("X-API-Key"))
            .build();
        break;
      case "twoRules":
        target = RateLimitFilter.builder()
            .rule(Rule.builder("api", never).paths("/api/**").build())
            .rule(Rule.builder("items", never).paths("/api/items").build())
            .build();
        break;
      case "denied":
        target = RateLimitFilter.builder().limit(Limit.perHour(1)).build();
        break;
      default:
        throw new IllegalArgumentException(filter);
    }
    request = new Request("GET", "/api/items", "203.0.113.7");
    request.headers.put("x-api-key", List.of("k-0123456789abcdef"));
    response = new Response();
    chain = (req, res) -> bh.consume(req);
  }

  /** Closes the filter's limiters. */
  @TearDown(Level.Trial)
  public void tearDown() {
    target.destroy();
  }

  /**
   * One request through the filter (and the chain, when admitted).
   *
   * @return the status, so the work is not dead code
   * @throws Exception never
   */
  @Benchmark
  public int request() throws Exception {
    request.attributeCount = 0;
    response.headerCount = 0;
    response.status = 200;
    target.doFilter(request, response, chain);
    return response.status;
  }

  /**
   * A GET with a fixed path, peer and headers; attributes in two small arrays, reset per request,
   * so that the harness itself allocates nothing when the filter sets one. Benchmark harness.
   */
  static final class Request implements HttpServletRequest {
    final String method;
    final String path;
    final String remoteAddr;
    final Map<String, List<String>> headers = new HashMap<>();
    final String[] attributeNames = new String[8];
    final Object[] attributeValues = new Object[8];
    int attributeCount;

    Request(String method, String path, String remoteAddr) {
      this.method = method;
      this.path = path;
      this.remoteAddr = remoteAddr;
    }

    @Override public DispatcherType getDispatcherType() { return DispatcherType.REQUEST; }
    @Override public Object getAttribute(String name) {
      for (int i = 0; i < attributeCount; i++) {
        if (attributeNames[i].equals(name)) {
          return attributeValues[i];
        }
      }
      return null;
    }

    @Override public void setAttribute(String name, Object o) {
      for (int i = 0; i < attributeCount; i++) {
        if (attributeNames[i].equals(name)) {
          attributeValues[i] = o;
          return;
        }
      }
      attributeNames[attributeCount] = name;
      attributeValues[attributeCount++] = o;
    }

    @Override public void removeAttribute(String name) { throw new UnsupportedOperationException("removeAttribute"); }
    @Override public String getServletPath() { return path; }
    @Override public String getPathInfo() { return null; }
    @Override public String getRequestURI() { return path; }
    @Override public String getContextPath() { return ""; }
    @Override public String getMethod() { return method; }
    @Override public String getRemoteAddr() { return remoteAddr; }
    @Override public Principal getUserPrincipal() { return null; }

    @Override public Enumeration<String> getHeaders(String name) {
      List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
      return v == null ? Collections.emptyEnumeration() : Collections.enumeration(v);
    }

    @Override public String getHeader(String name) {
      List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
      return v == null ? null : v.get(0);
    }

    // Not used by the filter.
      @Override public boolean authenticate(jakarta.servlet.http.HttpServletResponse a0) throws java.io.IOException, jakarta.servlet.ServletException { throw new UnsupportedOperationException("authenticate"); }
      @Override public java.lang.String changeSessionId() { throw new UnsupportedOperationException("changeSessionId"); }
      @Override public jakarta.servlet.AsyncContext getAsyncContext() { throw new UnsupportedOperationException("getAsyncContext"); }
      @Override public java.util.Enumeration<java.lang.String> getAttributeNames() { throw new UnsupportedOperationException("getAttributeNames"); }
      @Override public java.lang.String getAuthType() { throw new UnsupportedOperationException("getAuthType"); }
      @Override public java.lang.String getCharacterEncoding() { throw new UnsupportedOperationException("getCharacterEncoding"); }
      @Override public long getContentLengthLong() { throw new UnsupportedOperationException("getContentLengthLong"); }
      @Override public int getContentLength() { throw new UnsupportedOperationException("getContentLength"); }
      @Override public java.lang.String getContentType() { throw new UnsupportedOperationException("getContentType"); }
      @Override public jakarta.servlet.http.Cookie[] getCookies() { throw new UnsupportedOperationException("getCookies"); }
      @Override public long getDateHeader(java.lang.String a0) { throw new UnsupportedOperationException("getDateHeader"); }
      @Override public java.util.Enumeration<java.lang.String> getHeaderNames() { throw new UnsupportedOperationException("getHeaderNames"); }
      @Override public jakarta.servlet.ServletInputStream getInputStream() throws java.io.IOException { throw new UnsupportedOperationException("getInputStream"); }
      @Override public int getIntHeader(java.lang.String a0) { throw new UnsupportedOperationException("getIntHeader"); }
      @Override public java.lang.String getLocalAddr() { throw new UnsupportedOperationException("getLocalAddr"); }
      @Override public java.lang.String getLocalName() { throw new UnsupportedOperationException("getLocalName"); }
      @Override public int getLocalPort() { throw new UnsupportedOperationException("getLocalPort"); }
      @Override public java.util.Locale getLocale() { throw new UnsupportedOperationException("getLocale"); }
      @Override public java.util.Enumeration<java.util.Locale> getLocales() { throw new UnsupportedOperationException("getLocales"); }
      @Override public java.util.Map<java.lang.String, java.lang.String[]> getParameterMap() { throw new UnsupportedOperationException("getParameterMap"); }
      @Override public java.util.Enumeration<java.lang.String> getParameterNames() { throw new UnsupportedOperationException("getParameterNames"); }
      @Override public java.lang.String[] getParameterValues(java.lang.String a0) { throw new UnsupportedOperationException("getParameterValues"); }
      @Override public java.lang.String getParameter(java.lang.String a0) { throw new UnsupportedOperationException("getParameter"); }
      @Override public jakarta.servlet.http.Part getPart(java.lang.String a0) throws java.io.IOException, jakarta.servlet.ServletException { throw new UnsupportedOperationException("getPart"); }
      @Override public java.util.Collection<jakarta.servlet.http.Part> getParts() throws java.io.IOException, jakarta.servlet.ServletException { throw new UnsupportedOperationException("getParts"); }
      @Override public java.lang.String getPathTranslated() { throw new UnsupportedOperationException("getPathTranslated"); }
      @Override public java.lang.String getProtocolRequestId() { throw new UnsupportedOperationException("getProtocolRequestId"); }
      @Override public java.lang.String getProtocol() { throw new UnsupportedOperationException("getProtocol"); }
      @Override public java.lang.String getQueryString() { throw new UnsupportedOperationException("getQueryString"); }
      @Override public java.io.BufferedReader getReader() throws java.io.IOException { throw new UnsupportedOperationException("getReader"); }
      @Override public java.lang.String getRemoteHost() { throw new UnsupportedOperationException("getRemoteHost"); }
      @Override public int getRemotePort() { throw new UnsupportedOperationException("getRemotePort"); }
      @Override public java.lang.String getRemoteUser() { throw new UnsupportedOperationException("getRemoteUser"); }
      @Override public jakarta.servlet.RequestDispatcher getRequestDispatcher(java.lang.String a0) { throw new UnsupportedOperationException("getRequestDispatcher"); }
      @Override public java.lang.String getRequestId() { throw new UnsupportedOperationException("getRequestId"); }
      @Override public java.lang.StringBuffer getRequestURL() { throw new UnsupportedOperationException("getRequestURL"); }
      @Override public java.lang.String getRequestedSessionId() { throw new UnsupportedOperationException("getRequestedSessionId"); }
      @Override public java.lang.String getScheme() { throw new UnsupportedOperationException("getScheme"); }
      @Override public java.lang.String getServerName() { throw new UnsupportedOperationException("getServerName"); }
      @Override public int getServerPort() { throw new UnsupportedOperationException("getServerPort"); }
      @Override public jakarta.servlet.ServletConnection getServletConnection() { throw new UnsupportedOperationException("getServletConnection"); }
      @Override public jakarta.servlet.ServletContext getServletContext() { throw new UnsupportedOperationException("getServletContext"); }
      @Override public jakarta.servlet.http.HttpSession getSession() { throw new UnsupportedOperationException("getSession"); }
      @Override public jakarta.servlet.http.HttpSession getSession(boolean a0) { throw new UnsupportedOperationException("getSession"); }
      @Override public boolean isAsyncStarted() { return false; }
      @Override public boolean isAsyncSupported() { throw new UnsupportedOperationException("isAsyncSupported"); }
      @Override public boolean isRequestedSessionIdFromCookie() { throw new UnsupportedOperationException("isRequestedSessionIdFromCookie"); }
      @Override public boolean isRequestedSessionIdFromURL() { throw new UnsupportedOperationException("isRequestedSessionIdFromURL"); }
      @Override public boolean isRequestedSessionIdValid() { throw new UnsupportedOperationException("isRequestedSessionIdValid"); }
      @Override public boolean isSecure() { throw new UnsupportedOperationException("isSecure"); }
      @Override public boolean isUserInRole(java.lang.String a0) { throw new UnsupportedOperationException("isUserInRole"); }
      @Override public void login(java.lang.String a0, java.lang.String a1) throws jakarta.servlet.ServletException { throw new UnsupportedOperationException("login"); }
      @Override public void logout() throws jakarta.servlet.ServletException { throw new UnsupportedOperationException("logout"); }
      @Override public void setCharacterEncoding(java.lang.String a0) throws java.io.UnsupportedEncodingException { throw new UnsupportedOperationException("setCharacterEncoding"); }
      @Override public jakarta.servlet.AsyncContext startAsync() throws java.lang.IllegalStateException { throw new UnsupportedOperationException("startAsync"); }
      @Override public jakarta.servlet.AsyncContext startAsync(jakarta.servlet.ServletRequest a0, jakarta.servlet.ServletResponse a1) throws java.lang.IllegalStateException { throw new UnsupportedOperationException("startAsync"); }
      @Override public <T extends jakarta.servlet.http.HttpUpgradeHandler> T upgrade(java.lang.Class<T> a0) throws java.io.IOException, jakarta.servlet.ServletException { throw new UnsupportedOperationException("upgrade"); }
  }

  /** Headers in a map, a status, a body that is thrown away. Benchmark harness. */
  /** Headers in two small arrays, reset per request: the harness allocates nothing per header. */
  static final class Response implements HttpServletResponse {
    final String[] headerNames = new String[16];
    final String[] headerValues = new String[16];
    int headerCount;
    int status = 200;
    private final ServletOutputStream out = new ServletOutputStream() {
      @Override public void write(int b) {}
      @Override public void write(byte[] b, int off, int len) {}
      @Override public boolean isReady() { return true; }
      @Override public void setWriteListener(WriteListener l) {}
    };

    @Override public void setHeader(String name, String value) {
      for (int i = 0; i < headerCount; i++) {
        if (headerNames[i].equalsIgnoreCase(name)) {
          headerValues[i] = value;
          return;
        }
      }
      headerNames[headerCount] = name;
      headerValues[headerCount++] = value;
    }

    @Override public void addHeader(String name, String value) {
      headerNames[headerCount] = name;
      headerValues[headerCount++] = value;
    }

    @Override public boolean containsHeader(String name) { return getHeader(name) != null; }
    @Override public String getHeader(String name) {
      for (int i = 0; i < headerCount; i++) {
        if (headerNames[i].equalsIgnoreCase(name)) {
          return headerValues[i];
        }
      }
      return null;
    }
    @Override public void setStatus(int sc) { status = sc; }
    @Override public int getStatus() { return status; }
    @Override public void setContentType(String type) { setHeader("Content-Type", type); }
    @Override public void setContentLength(int len) { setHeader("Content-Length", Integer.toString(len)); }
    @Override public ServletOutputStream getOutputStream() { return out; }
    @Override public boolean isCommitted() { return false; }

    // Not used by the filter.
      @Override public void addCookie(jakarta.servlet.http.Cookie a0) { throw new UnsupportedOperationException("addCookie"); }
      @Override public void addDateHeader(java.lang.String a0, long a1) { throw new UnsupportedOperationException("addDateHeader"); }
      @Override public void addIntHeader(java.lang.String a0, int a1) { throw new UnsupportedOperationException("addIntHeader"); }
      @Override public java.lang.String encodeRedirectURL(java.lang.String a0) { throw new UnsupportedOperationException("encodeRedirectURL"); }
      @Override public java.lang.String encodeURL(java.lang.String a0) { throw new UnsupportedOperationException("encodeURL"); }
      @Override public void flushBuffer() throws java.io.IOException { throw new UnsupportedOperationException("flushBuffer"); }
      @Override public int getBufferSize() { throw new UnsupportedOperationException("getBufferSize"); }
      @Override public java.lang.String getCharacterEncoding() { throw new UnsupportedOperationException("getCharacterEncoding"); }
      @Override public java.lang.String getContentType() { throw new UnsupportedOperationException("getContentType"); }
      @Override public java.util.Collection<java.lang.String> getHeaderNames() { throw new UnsupportedOperationException("getHeaderNames"); }
      @Override public java.util.Collection<java.lang.String> getHeaders(java.lang.String a0) { throw new UnsupportedOperationException("getHeaders"); }
      @Override public java.util.Locale getLocale() { throw new UnsupportedOperationException("getLocale"); }
      @Override public java.io.PrintWriter getWriter() throws java.io.IOException { throw new UnsupportedOperationException("getWriter"); }
      @Override public void resetBuffer() { throw new UnsupportedOperationException("resetBuffer"); }
      @Override public void reset() { throw new UnsupportedOperationException("reset"); }
      @Override public void sendError(int a0, java.lang.String a1) throws java.io.IOException { throw new UnsupportedOperationException("sendError"); }
      @Override public void sendError(int a0) throws java.io.IOException { throw new UnsupportedOperationException("sendError"); }
      @Override public void sendRedirect(java.lang.String a0) throws java.io.IOException { throw new UnsupportedOperationException("sendRedirect"); }
      @Override public void setBufferSize(int a0) { throw new UnsupportedOperationException("setBufferSize"); }
      @Override public void setCharacterEncoding(java.lang.String a0) { throw new UnsupportedOperationException("setCharacterEncoding"); }
      @Override public void setContentLengthLong(long a0) { throw new UnsupportedOperationException("setContentLengthLong"); }
      @Override public void setDateHeader(java.lang.String a0, long a1) { throw new UnsupportedOperationException("setDateHeader"); }
      @Override public void setIntHeader(java.lang.String a0, int a1) { throw new UnsupportedOperationException("setIntHeader"); }
      @Override public void setLocale(java.util.Locale a0) { throw new UnsupportedOperationException("setLocale"); }
  }
}
