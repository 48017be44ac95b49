package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The right-to-left walk of forwarding headers, on text a test can write but a client cannot. */
class ClientIpTest {

  private static final String PEER = "10.0.0.1";
  private static final TrustedProxies XFF = TrustedProxies.of("10.0.0.0/8", "2001:db8::/32");
  private static final TrustedProxies FWD = XFF.header(TrustedProxies.Header.FORWARDED);

  private static String walk(TrustedProxies proxies, String... lines) throws Exception {
    return ClientIp.walk(InetAddress.getByName(PEER), List.of(lines), proxies).getHostAddress();
  }

  @ParameterizedTest(name = "[{index}] X-Forwarded-For: {0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "203.0.113.7                              | 203.0.113.7",
      "203.0.113.7, 10.0.0.2                    | 203.0.113.7",
      "1.1.1.1, 203.0.113.7, 10.0.0.2           | 203.0.113.7",
      "garbage, 203.0.113.7                     | 203.0.113.7",
      "203.0.113.7 ,\t10.0.0.2                  | 203.0.113.7",
      "203.0.113.7:8080                         | 203.0.113.7",
      "[2001:db9::1]:443                        | 2001:db9:0:0:0:0:0:1",
      "[2001:db9::1]                            | 2001:db9:0:0:0:0:0:1",
      "2001:db9::1                              | 2001:db9:0:0:0:0:0:1",
      "203.0.113.9, 2001:db8::5                 | 203.0.113.9",
      "::ffff:203.0.113.7                       | 203.0.113.7",
      "203.0.113.7, garbage                     | 10.0.0.1",
      "203.0.113.7, unknown                     | 10.0.0.1",
      "10.0.0.3, 10.0.0.2                       | 10.0.0.1",
      "1.2.3                                    | 10.0.0.1",
      "01.2.3.4                                 | 10.0.0.1",
      "256.1.1.1                                | 10.0.0.1",
      "1.2.3.4.5                                | 10.0.0.1",
      "example.com                              | 10.0.0.1",
      "fe80::1%eth0                             | 10.0.0.1",
      "1:2                                      | 10.0.0.1",
      "203.0.113.7:99999999                     | 10.0.0.1",
      "'203.0.113.7, '                          | 10.0.0.1",
      "'203.0.113.7,,10.0.0.2'                  | 10.0.0.1",
      "\"203.0.113.7\"                          | 10.0.0.1",
  })
  void walk_xForwardedFor_rightmostUntrustedOrPeer(String header, String expected) throws Exception {
    assertThat(walk(XFF, header)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "[{index}] Forwarded: {0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "for=203.0.113.7                                      | 203.0.113.7",
      "for=203.0.113.7;proto=https, for=10.0.0.2            | 203.0.113.7",
      "For=\"203.0.113.7:80\";by=10.0.0.2                    | 203.0.113.7",
      "for=\"[2001:db9::1]:4711\"                           | 2001:db9:0:0:0:0:0:1",
      "for=\"[2001:db9::1]\", for=\"[2001:db8::2]\"         | 2001:db9:0:0:0:0:0:1",
      "for=\"oops, for=203.0.113.7                          | 203.0.113.7",
      "for=203.0.113.7, for=10.0.0.2;x=\"a,b\"              | 203.0.113.7",
      "for=203.0.113.7, for=10.0.0.2;x=\"a\\\",b\"          | 203.0.113.7",
      "for=203.0.113.7, for=10.0.0.2;x=\"a\\\\\"            | 203.0.113.7",
      "for=\"_hidden\"                                      | 10.0.0.1",
      "for=unknown                                          | 10.0.0.1",
      "for=\"203.0.113.7:_port\"                            | 203.0.113.7",
      "proto=https                                          | 10.0.0.1",
      "for=203.0.113.7;for=1.1.1.1                          | 10.0.0.1",
      "for=[2001:db9::1]                                    | 10.0.0.1",
      "for=\"2001:db9::1\"                                  | 10.0.0.1",
      "for=203.0.113.7, for=\"10.0.0.2                      | 10.0.0.1",
      "for=203.0.113.7;                                     | 10.0.0.1",
      "for=                                                 | 10.0.0.1",
  })
  void walk_forwarded_rightmostUntrustedOrPeer(String header, String expected) throws Exception {
    assertThat(walk(FWD, header)).isEqualTo(expected);
  }

  @Test
  void walk_severalFieldLines_readAsOneListInOrder() throws Exception {
    assertThat(walk(XFF, "1.1.1.1, 203.0.113.7", "10.0.0.2")).isEqualTo("203.0.113.7");
    assertThat(walk(XFF, "203.0.113.7", "10.0.0.2, 10.0.0.3")).isEqualTo("203.0.113.7");
    assertThat(walk(XFF, "203.0.113.7", "garbage")).isEqualTo(PEER);
    assertThat(walk(XFF)).isEqualTo(PEER);
    assertThat(walk(XFF, "")).isEqualTo(PEER);
  }

  @Test
  void walk_moreTrustedHopsThanTheBound_fallsBackToPeer() throws Exception {
    List<String> hops = new ArrayList<>();
    hops.add("203.0.113.7");
    for (int i = 0; i < ClientIp.MAX_HOPS - 1; i++) {
      hops.add("10.0.0." + (i + 2));
    }
    assertThat(walk(XFF, String.join(", ", hops))).isEqualTo("203.0.113.7");
    hops.add("10.0.1.1");
    assertThat(walk(XFF, String.join(", ", hops))).isEqualTo(PEER);
  }

  @Test
  void walk_megabyteOfClientGarbageLeftOfTheClient_ignored() throws Exception {
    String garbage = ",\"\\".repeat(350_000) + "\u0000\r\n\uD800\uFFFF";
    assertThat(walk(XFF, garbage + ", 203.0.113.7, 10.0.0.2")).isEqualTo("203.0.113.7");
    assertThat(walk(FWD, garbage + ", for=203.0.113.7, for=10.0.0.2")).isEqualTo("203.0.113.7");
  }

  @Test
  void walk_controlCharactersInsideAHop_fallBackToPeer() throws Exception {
    assertThat(walk(XFF, "203.0.113.7\u0000")).isEqualTo(PEER);
    assertThat(walk(XFF, "203.0.113.7\r\nX-Evil: 1")).isEqualTo(PEER);
    assertThat(walk(XFF, "203.0.113.\uFF17")).isEqualTo(PEER); // fullwidth digit
    assertThat(walk(FWD, "for=\"203.0.113.7\u0000\"")).isEqualTo(PEER);
  }
}
