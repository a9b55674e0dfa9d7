package dev.biometry.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which addresses count as public: literals only, no lookup. */
class NetworkAddressesTest {

    @ParameterizedTest
    @CsvSource({
        "10.1.2.3,false",
        "172.16.0.1,false",
        "172.31.255.255,false",
        "192.168.1.1,false",
        "100.64.0.1,false",
        "100.127.255.255,false",
        "127.0.0.1,false",
        "127.8.8.8,false",
        "169.254.169.254,false",
        "0.0.0.0,false",
        "0.1.2.3,false",
        "224.0.0.1,false",
        "255.255.255.255,false",
        "::,false",
        "::1,false",
        "fe80::1,false",
        "fc00::1,false",
        "fd12:3456::1,false",
        "fec0::1,false",
        "ff02::1,false",
        "::ffff:10.0.0.1,false",
        "::ffff:127.0.0.1,false",
        "::ffff:169.254.169.254,false",
        "::127.0.0.1,false",
        "64:ff9b::a00:1,false",
        "2002:c0a8:0101::1,false",
        "198.18.0.1,false",
        "198.19.255.255,false",
        "192.0.0.8,false",
        "172.32.0.1,true",
        "100.128.0.1,true",
        "198.20.0.1,true",
        "192.0.2.1,true",
        "11.0.0.1,true",
        "93.184.216.34,true",
        "2001:db8::1,true",
        "2606:4700::1111,true",
        "::ffff:93.184.216.34,true",
        "64:ff9b::5db8:d822,true"
    })
    void classifiesAddresses(String literal, boolean expectedPublic) throws Exception {
        assertThat(NetworkAddresses.isPublic(InetAddress.getByName(literal))).isEqualTo(expectedPublic);
    }
}
