import Runtime
import Testing

@testable import Gateway

/// CIDR parsing and the forwarding-chain walk, without a server.
@Suite struct TrustedProxiesTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::1", "0:0:0:0:0:0:0:1"), ("::", "0:0:0:0:0:0:0:0"), ("2001:db8::17", "2001:db8:0:0:0:0:0:17"),
        ("fe80::1:2", "fe80:0:0:0:0:0:1:2"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("::ffff:10.1.2.3", "10.1.2.3"), ("64:ff9b::192.0.2.33", "64:ff9b:0:0:0:0:c000:221"),
        ("2001:DB8::A", "2001:db8:0:0:0:0:0:a"),
    ])
    func parsesAddresses(_ sample: (String, String)) throws {
        let address = try #require(IPAddress(sample.0))
        #expect(address.description == sample.1)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d", ":::", "1:2:3:4:5:6:7:8:9",
        "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "unknown", "::1%eth0",
        "1.2.3.4:80",
    ])
    func rejectsNonAddresses(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func cidrMembership() throws {
        let ten = try #require(CIDRBlock("10.0.0.0/8"))
        #expect(ten.contains(try #require(IPAddress("10.255.0.1"))))
        #expect(!ten.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!ten.contains(try #require(IPAddress("::a00:1"))))
        let odd = try #require(CIDRBlock("192.168.1.128/25"))
        #expect(odd.contains(try #require(IPAddress("192.168.1.200"))))
        #expect(!odd.contains(try #require(IPAddress("192.168.1.127"))))
        let v6 = try #require(CIDRBlock("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::1"))))
        let all = try #require(CIDRBlock("0.0.0.0/0"))
        #expect(all.contains(try #require(IPAddress("8.8.8.8"))))
        let host = try #require(CIDRBlock("::1"))
        #expect(host.prefixLength == 128)
        #expect(host.contains(try #require(IPAddress("::1"))))
        // A mapped peer address matches an IPv4 block, and a mapped block matches IPv4 peers.
        #expect(CIDRBlock("127.0.0.1/32")?.contains(try #require(IPAddress("::ffff:127.0.0.1"))) == true)
        #expect(CIDRBlock("::ffff:10.0.0.0/104")?.contains(try #require(IPAddress("10.9.9.9"))) == true)
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "example.com/8", "::ffff:1.2.3.4/95"])
    func rejectsBadCIDRs(_ text: String) {
        #expect(CIDRBlock(text) == nil)
    }

    @Test func configurationListNamesTheBadEntry() throws {
        #expect(try TrustedProxies(parsing: "127.0.0.1/32,::1/128").blocks.count == 2)
        #expect(try TrustedProxies(parsing: " 10.0.0.0/8 , 192.168.0.0/16 ").blocks.count == 2)
        #expect(try TrustedProxies(parsing: "").blocks.isEmpty)
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "10.0.0.0/8,nonsense") }
        do {
            _ = try TrustedProxies(parsing: "10.0.0.0/8,nonsense")
        } catch {
            #expect(error.message.contains("\"nonsense\""))
            #expect(error.message.contains("DOCKET_TRUSTED_PROXIES"))
        }
    }

    let proxies = TrustedProxies(blocks: ["127.0.0.1/32", "10.0.0.0/8", "::1/128"].compactMap { CIDRBlock($0) })

    @Test func untrustedPeerIsTheClientWhateverItClaims() {
        #expect(proxies.clientAddress(peer: "203.0.113.9", forwardedFor: "1.1.1.1", forwarded: "for=2.2.2.2") == "203.0.113.9")
        #expect(proxies.clientAddress(peer: nil, forwardedFor: "1.1.1.1", forwarded: nil) == nil)
    }

    @Test func forwardedForIsWalkedFromTheRightSkippingTrustedHops() {
        // The client can put anything on the left; only the first untrusted hop from the right counts.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "6.6.6.6, 198.51.100.7, 10.1.1.1", forwarded: nil) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "198.51.100.7", forwarded: nil) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "::1", forwardedFor: "2001:db8::1,10.0.0.2", forwarded: nil) == "2001:db8::1")
        #expect(proxies.clientAddress(peer: "::ffff:127.0.0.1", forwardedFor: "198.51.100.7", forwarded: nil) == "198.51.100.7")
        // Every hop trusted: the leftmost is the best we know.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "10.0.0.5, 10.0.0.6", forwarded: nil) == "10.0.0.5")
        // Ports and brackets are stripped; junk stops the walk as an untrusted hop.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "198.51.100.7:5555, [10.0.0.9]:80", forwarded: nil) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "1.1.1.1, unknown, 10.0.0.1", forwarded: nil) == "unknown")
        // No header: the peer.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: nil, forwarded: nil) == "127.0.0.1")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: " , ", forwarded: nil) == "127.0.0.1")
    }

    @Test func forwardedHeaderIsUsedWhenThereIsNoForwardedFor() {
        #expect(proxies.clientAddress(
            peer: "127.0.0.1", forwardedFor: nil,
            forwarded: #"for=192.0.2.43;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.0.0.3"#
        ) == "2001:db8:cafe::17")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: nil, forwarded: "for=192.0.2.60;proto=http;by=203.0.113.43") == "192.0.2.60")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: nil, forwarded: "for=_hidden, for=10.0.0.7") == "_hidden")
        // X-Forwarded-For wins when both are present.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "198.51.100.1", forwarded: "for=192.0.2.60") == "198.51.100.1")
    }

    @Test func requestIdsAreUniqueAndSaneOnesAreAccepted() {
        // Two event loops of one process: ids unique across both, without sharing a counter.
        let prefix = RequestIDGenerator.makeProcessPrefix()
        var loop0 = RequestIDGenerator(processPrefix: prefix, loopIndex: 0, loopCount: 2)
        var loop1 = RequestIDGenerator(processPrefix: prefix, loopIndex: 1, loopCount: 2)
        let ids = (0..<1000).flatMap { _ in [loop0.make(), loop1.make()] }
        #expect(Set(ids).count == 2000)
        #expect(ids.allSatisfy { $0.hasPrefix(prefix) })
        #expect(ids.allSatisfy(RequestIDGenerator.isAcceptable))
        #expect(!RequestIDGenerator.isAcceptable(""))
        #expect(!RequestIDGenerator.isAcceptable("has space"))
        #expect(!RequestIDGenerator.isAcceptable("line\nbreak"))
        #expect(!RequestIDGenerator.isAcceptable(String(repeating: "x", count: 129)))
        #expect(RequestIDGenerator.isAcceptable("f47ac10b-58cc-4372-a567-0e02b2c3d479"))
    }
}
