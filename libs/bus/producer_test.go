package bus

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"
)

// TestPartitionOfIsJavaMurmur2: the producer's partitioner puts a key where
// kafka-go's Murmur2Balancer (the Java client's murmur2 partitioner) does,
// so resuming finds a symbol's records in the partition they were written
// to, and other clients agree on it.
func TestPartitionOfIsJavaMurmur2(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := [][]byte{[]byte("BTCUSDT"), []byte("ETHUSDT"), []byte("x"), []byte("")}
	for i := range 5000 {
		k := make([]byte, r.IntN(40))
		for j := range k {
			k[j] = byte(r.Uint32())
		}
		keys = append(keys, k, []byte("SYM"+strconv.Itoa(i)))
	}
	for _, n := range []int{1, 2, 3, 6, 12, 64} {
		parts := make([]int, n)
		for i := range parts {
			parts[i] = i
		}
		for _, k := range keys {
			want := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: k}, parts...)
			if got := PartitionOf(k, n); got != want {
				t.Fatalf("PartitionOf(%q, %d) = %d, murmur2 says %d", k, n, got, want)
			}
		}
	}
}
