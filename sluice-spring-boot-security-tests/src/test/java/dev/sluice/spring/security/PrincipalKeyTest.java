package dev.sluice.spring.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import dev.sluice.spring.boot.Sluice;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * {@code key: principal} behind Spring Security: the starter's filter runs after Security's chain
 * (order -90 against -100), so each authenticated user has a bucket of its own, and a request
 * Security refuses (401) reaches no bucket.
 */
@SpringBootTest(classes = SecuredApp.class, webEnvironment = WebEnvironment.RANDOM_PORT,
    properties = {"sluice.rules[0].name=api", "sluice.rules[0].paths=/api/**",
        "sluice.rules[0].key=principal", "sluice.rules[0].limits[0].permits=1",
        "sluice.rules[0].limits[0].per=1h", "sluice.rules[0].limits[0].burst=2"})
class PrincipalKeyTest {

  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  @LocalServerPort
  int port;

  @Autowired
  Sluice sluice;

  private HttpResponse<String> get(String user, String password) {
    HttpRequest.Builder b = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/hello")).GET();
    if (user != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }
    try {
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void principalKey_eachAuthenticatedUserHasItsOwnBucket() {
    List<Integer> alice = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      alice.add(get("alice", "a-secret").statusCode());
    }
    assertThat(alice).as("alice: burst 2, then refused").containsExactly(200, 200, 429);
    HttpResponse<String> bob = get("bob", "b-secret");
    assertThat(bob.statusCode()).as("bob's own bucket").isEqualTo(200);
    assertThat(bob.body()).isEqualTo("hello bob");
    assertThat(bob.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
  }

  /**
   * Were the filter before Security, a request without a principal would be the filter's 403
   * (no key, {@code missing-key: deny}); after it, Security's 401 comes first, and no bucket is
   * made.
   */
  @Test
  void unauthenticated_refusedBySecurityFirst_noBucketMade() {
    long keys = sluice.httpLimiter().limiter("api").size();
    for (int i = 0; i < 5; i++) {
      assertThat(get("carol", "wrong").statusCode()).isEqualTo(401);
      assertThat(get(null, null).statusCode()).isEqualTo(401);
    }
    assertThat(sluice.httpLimiter().limiter("api").size()).isEqualTo(keys);
  }
}
