package dev.biometry.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Tells public unicast addresses from the ones a server-side fetch must not reach: loopback, any-local,
 * link-local, private/site-local, CGNAT, benchmarking, unique-local, multicast and reserved ranges, including IPv4
 * addresses embedded in IPv6 ones (IPv4-mapped, IPv4-compatible, NAT64 and 6to4).
 */
final class NetworkAddresses {

    private NetworkAddresses() {}

    /** Whether {@code address} is a public unicast address. */
    static boolean isPublic(InetAddress address) {
        if (address.isAnyLocalAddress()
                || address.isLoopbackAddress()
                || address.isLinkLocalAddress()
                || address.isSiteLocalAddress()
                || address.isMulticastAddress()) {
            return false;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return isPublicIpv4(b);
        }
        if (address instanceof Inet6Address) {
            return isPublicIpv6(b);
        }
        return false;
    }

    private static boolean isPublicIpv4(byte[] b) {
        int first = b[0] & 0xFF;
        int second = b[1] & 0xFF;
        if (first == 0 // 0.0.0.0/8 "this network"
                || first == 10 // 10/8
                || first == 127 // 127/8
                || (first == 100 && (second & 0xC0) == 64) // 100.64/10 CGNAT
                || (first == 169 && second == 254) // 169.254/16 link-local (cloud metadata)
                || (first == 172 && (second & 0xF0) == 16) // 172.16/12
                || (first == 192 && second == 168) // 192.168/16
                || (first == 192 && second == 0 && (b[2] & 0xFF) == 0) // 192.0.0/24 IETF protocol assignments
                || (first == 198 && (second & 0xFE) == 18) // 198.18/15 benchmarking, often used internally
                || first >= 224) { // multicast 224/4, reserved 240/4, broadcast
            return false;
        }
        return true;
    }

    private static boolean isPublicIpv6(byte[] b) {
        int first = b[0] & 0xFF;
        int second = b[1] & 0xFF;
        if ((first & 0xFE) == 0xFC // fc00::/7 unique local
                || (first == 0xFE && (second & 0xC0) == 0x80) // fe80::/10 link-local
                || (first == 0xFE && (second & 0xC0) == 0xC0) // fec0::/10 deprecated site-local
                || first == 0xFF) { // ff00::/8 multicast
            return false;
        }
        if (allZero(b, 0, 10)) {
            if ((b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
                return isPublicIpv4(slice(b, 12)); // ::ffff:a.b.c.d IPv4-mapped
            }
            if (b[10] == 0 && b[11] == 0) {
                return isPublicIpv4(slice(b, 12)); // ::a.b.c.d IPv4-compatible (also covers :: and ::1)
            }
        }
        if (first == 0x00 && second == 0x64 && (b[2] & 0xFF) == 0xFF && (b[3] & 0xFF) == 0x9B && allZero(b, 4, 12)) {
            return isPublicIpv4(slice(b, 12)); // 64:ff9b::/96 NAT64
        }
        if (first == 0x20 && second == 0x02) {
            return isPublicIpv4(slice(b, 2)); // 2002::/16 6to4
        }
        return true;
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] slice(byte[] b, int from) {
        return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
    }
}
