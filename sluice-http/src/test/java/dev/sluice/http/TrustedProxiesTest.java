package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrustedProxiesTest {

  @ParameterizedTest(name = "{0} contains {1}: {2}")
  @CsvSource({
      "10.0.0.0/8, 10.255.255.255, true",
      "10.0.0.0/8, 11.0.0.0, false",
      "10.1.2.3/8, 10.200.0.1, true",
      "172.16.0.0/12, 172.31.255.255, true",
      "172.16.0.0/12, 172.32.0.0, false",
      "127.0.0.1, 127.0.0.1, true",
      "127.0.0.1, 127.0.0.2, false",
      "127.0.0.1/32, 127.0.0.1, true",
      "0.0.0.0/0, 203.0.113.7, true",
      "0.0.0.0/0, ::1, false",
      "2001:db8::/32, 2001:db8:ffff::1, true",
      "2001:db8::/33, 2001:db8:8000::1, false",
      "::1, ::1, true",
      "[::1]/128, ::1, true",
      "::/0, 2001:db9::1, true",
      "10.0.0.0/8, ::ffff:10.1.1.1, true",
  })
  void contains_cidr_matchesPrefix(String cidr, String address, boolean expected) throws Exception {
    assertThat(TrustedProxies.of(cidr).contains(InetAddress.getByName(address))).isEqualTo(expected);
  }

  @Test
  void of_malformedRange_refusedWithValueAndBound() {
    assertThatThrownBy(() -> TrustedProxies.of("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("10.0.0.0/33").hasMessageContaining("exceeds 32");
    assertThatThrownBy(() -> TrustedProxies.of("::1/129"))
        .hasMessageContaining("::1/129").hasMessageContaining("exceeds 128");
    assertThatThrownBy(() -> TrustedProxies.of("10.0.0.0/x"))
        .hasMessageContaining("\"x\"").hasMessageContaining("0 to 32");
    assertThatThrownBy(() -> TrustedProxies.of("10.0.0.0/"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TrustedProxies.of("proxy.example"))
        .hasMessageContaining("\"proxy.example\"").hasMessageContaining("IPv4 or IPv6 literal");
    assertThatThrownBy(() -> TrustedProxies.of("10.0.0"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void none_containsNothing_andHeaderDefaultsToXForwardedFor() throws Exception {
    assertThat(TrustedProxies.none().isEmpty()).isTrue();
    assertThat(TrustedProxies.none().contains(InetAddress.getByName("127.0.0.1"))).isFalse();
    TrustedProxies p = TrustedProxies.of(" 10.0.0.0/8 ", "::1");
    assertThat(p.header()).isEqualTo(TrustedProxies.Header.X_FORWARDED_FOR);
    assertThat(p.header(TrustedProxies.Header.FORWARDED).header().fieldName())
        .isEqualTo("Forwarded");
    assertThat(p.ranges()).containsExactly("10.0.0.0/8", "::1");
  }
}
