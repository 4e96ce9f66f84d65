import Queue
import Redis
import Testing

/// The partition hash is part of the contract (docs/reference.md §8): fixed vectors pin it across releases.
@Suite struct PartitioningTests {
    @Test func fnv1aMatchesTheReferenceVectors() {
        // From the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/): 64-bit FNV-1a.
        #expect(Partitioning.fnv1a([]) == 0xcbf2_9ce4_8422_2325)
        #expect(Partitioning.fnv1a(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(Partitioning.fnv1a(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    @Test func webhookIdsLandInFixedPartitions() {
        let eight = Partitioning(prefix: "docket", count: 8)
        // Computed once by an independent FNV-1a implementation (Python); a change here moves webhooks between
        // partitions for installations already running, so it is a contract change.
        let pinned: [(id: String, of8: Int, of3: Int)] = [
            ("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 0, 2), ("msg_1", 2, 1), ("msg_2", 7, 0),
            ("bench_0123456789abcdef0123_7", 0, 2), ("a", 4, 1), ("foobar", 0, 0), ("", 5, 2),
        ]
        let three = Partitioning(prefix: "docket", count: 3)
        for (id, of8, of3) in pinned {
            #expect(eight.partition(forWebhookId: id) == of8, "\(id)")
            #expect(three.partition(forWebhookId: id) == of3, "\(id)")
        }
        // One partition: everything in partition 0.
        #expect(Partitioning(prefix: "docket", count: 1).partition(forWebhookId: "anything") == 0)
    }

    @Test func onePartitionKeepsTodaysKeysAndSeveralGetOneSlotEach() {
        let one = Partitioning(prefix: "docket", count: 1)
        #expect(one.keys(0) == QueueKeys(prefix: "docket"))
        #expect(one.keys(0).events == "{docket}:events")

        let eight = Partitioning(prefix: "docket", count: 8)
        #expect(eight.allKeys.count == 8)
        #expect(eight.keys(3).events == "{docket-3}:events")
        #expect(eight.keys(3).seen("msg_1") == "{docket-3}:seen:msg_1")
        // Partition 0 keeps the unpartitioned keys: raising the count from 1 strands nothing.
        #expect(eight.keys(0) == QueueKeys(prefix: "docket"))
        var slots = Set<Int>()
        for keys in eight.allKeys {
            let slot = ClusterSlot.of(keys.events)
            // Every script touches one partition's keys only: they must share the slot.
            for key in [keys.retry, keys.dead, keys.seen("msg_x")] {
                #expect(ClusterSlot.of(key) == slot, "\(key)")
            }
            slots.insert(slot)
        }
        #expect(slots.count == 8, "partitions spread over distinct slots")
    }
}
